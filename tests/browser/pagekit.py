"""What the browser tests do on the order page, as a customer does it: sign in, fill the form, watch the status."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, Request, expect

TERMINAL = ("FULFILLED", "FAILED", "REJECTED")
MQTT_URL = re.compile(r"/mqtt")


def sign_in(page: Page, system: dict[str, Any], user: dict[str, str]) -> None:
    page.goto(system["url"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("E-mail").fill(user["email"])
    page.get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Catalogue")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {user['email']}")).to_be_visible()


def fill_order(page: Page, product: str, quantity: int) -> None:
    page.get_by_label(f"Quantity of {product}").fill(str(quantity))
    page.get_by_label("Full name").fill("Alice Example")
    page.get_by_label("Address line 1").fill("1 Main Street")
    page.get_by_label("City").fill("Dublin")
    page.get_by_label("Postal code").fill("D01 F5P2")
    page.get_by_label("Country code (two letters, e.g. IE)").fill("IE")


def watch_statuses(page: Page) -> None:
    """Record every status the page shows, in order, from now on (without reloading)."""
    page.evaluate(
        """() => {
            window.seenStatuses = [];
            const status = document.getElementById("current-status");
            // Two pushes handled in one task reach the observer as one call: each record holds the value its
            // change replaced, so the values set are the next records' old values, then the current one.
            new MutationObserver((records) => {
                const values = records.slice(1).map((record) => record.oldValue).concat(status.dataset.status);
                for (const value of values) {
                    if (value && window.seenStatuses.at(-1) !== value) window.seenStatuses.push(value);
                }
            }).observe(status, { attributes: true, attributeFilter: ["data-status"], attributeOldValue: true });
        }"""
    )


def final_status(page: Page, timeout_s: float = 45) -> str:
    page.wait_for_function(
        f"() => {list(TERMINAL)!r}.includes(document.getElementById('current-status').dataset.status)",
        timeout=timeout_s * 1000,
    )
    return str(page.get_attribute("#current-status", "data-status"))


def current_order_id(page: Page) -> str:
    """The id of the order the page is watching (the page shows only its short reference)."""
    expect(page.locator("#current")).to_have_attribute("data-order-id", re.compile(r"^[0-9a-f-]{36}$"))
    return str(page.get_attribute("#current", "data-order-id"))


def order_gets(page: Page) -> list[str]:
    """Every GET /orders/{orderId} the page sends, from now on."""
    urls: list[str] = []

    def record(request: Request) -> None:
        if request.method == "GET" and re.search(r"/orders/[^/?]+$", request.url):
            urls.append(request.url)

    page.on("request", record)
    return urls
