"""The order page as a small shop a customer would trust (issue 24): where the view goes, what a failed order keeps,
the whole story of an order, what it looks like on a phone, what it loads before sign-in, axe-core's verdict, and a
quiet ``make local`` console. Each test pins one defect the page had."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.pagekit import current_order_id, fill_order, final_status, sign_in

PROJECT_DIR = Path(__file__).resolve().parents[2]
AXE = PROJECT_DIR / "web" / "node_modules" / "axe-core" / "axe.min.js"
ORDER_READ = re.compile(r"/orders/[0-9a-f-]{36}$")
ORDER_LIST = re.compile(r"/orders(\?.*)?$")
PHONE = (390, 844)

NewPage = Callable[..., Page]


def place(page: Page) -> str:
    page.get_by_role("button", name="Place order").click()
    return current_order_id(page)


def focused_in(page: Page, selector: str) -> bool:
    return bool(page.evaluate("(s) => Boolean(document.activeElement?.closest(s))", selector))


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (WCAG 2.x A and AA rules and best practices)."""
    assert AXE.is_file(), f"{AXE} is missing: run `make web` (axe-core is a dev dependency of web/package.json)"
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in result]


# ---- place order: where the view goes, what is marked, what is kept --------------------------------


def test_placing_an_order_takes_view_and_focus_to_the_order(local_system: dict[str, Any], new_page: NewPage) -> None:
    page = new_page(*PHONE)
    sign_in(page, local_system, local_system["users"][0])
    fill_order(page, "Enamel mug, white", 1)

    place(page)

    expect(page.locator("#current-title")).to_be_in_viewport()
    assert focused_in(page, "#current"), page.evaluate("() => document.activeElement.outerHTML")
    assert final_status(page) == "FULFILLED"


def test_a_refused_line_is_marked_on_its_own_product_in_the_customers_words_and_the_cart_stays(
    local_system: dict[str, Any], new_page: NewPage
) -> None:
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    fill_order(page, "Enamel mug, black", 1)
    page.get_by_label("Quantity of Desk lamp").fill("2")

    def over_the_limit(route: Route) -> None:
        # What an older page (or a hand-made request) sends: the API's own 400 names the second line.
        body = json.loads(route.request.post_data or "{}")
        body["items"][1]["quantity"] = 101
        route.continue_(post_data=json.dumps(body))

    page.route(re.compile(r"/orders$"), lambda r: over_the_limit(r) if r.request.method == "POST" else r.fallback())
    page.get_by_role("button", name="Place order").click()

    lamp = page.get_by_label("Quantity of Desk lamp")
    expect(lamp).to_have_attribute("aria-invalid", "true")
    expect(lamp).to_be_focused()
    expect(lamp).to_be_in_viewport()
    # The second line sent is the lamp, not the catalogue's second row.
    expect(page.get_by_label("Quantity of Enamel mug, white")).not_to_have_attribute("aria-invalid", "true")
    errors = page.locator("#form-errors")
    expect(errors).to_contain_text("Desk lamp: choose from 1 to 100")
    expect(page.locator("#qty-LAMP-DESK-error")).to_be_visible()
    assert "Input should" not in (page.text_content("main") or "")
    expect(page.get_by_label("Quantity of Enamel mug, black")).to_have_value("1")
    expect(lamp).to_have_value("2")
    expect(page.get_by_label("City")).to_have_value("Dublin")


def test_the_form_applies_the_apis_limits_before_sending(local_system: dict[str, Any], new_page: NewPage) -> None:
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    posts: list[Request] = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    limit = page.evaluate("async () => (await (await fetch('/config.json')).json()).limits.maxLineQuantity")
    fill_order(page, "Baseball cap", 999999999999)

    page.get_by_role("button", name="Place order").click()

    cap = page.get_by_label("Quantity of Baseball cap")
    expect(cap).to_have_attribute("max", str(limit))
    expect(cap).to_have_attribute("aria-invalid", "true")
    expect(cap).to_be_focused()
    expect(page.locator("#form-errors")).to_contain_text(f"Baseball cap: choose from 1 to {limit}")
    expect(page.locator("#order-total")).not_to_contain_text("€")  # no €19,989,999,999,980.01 total
    assert not [p for p in posts if p.url.endswith("/orders")]


def test_a_failed_order_keeps_the_cart_and_the_address(local_system: dict[str, Any], new_page: NewPage) -> None:
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    fill_order(page, "Desk lamp", 6)  # 5 in stock

    place(page)

    assert final_status(page) == "FAILED"
    expect(page.locator("#current-reason")).to_contain_text(re.compile("out of stock", re.IGNORECASE))
    expect(page.get_by_label("Quantity of Desk lamp")).to_have_value("6")
    expect(page.get_by_label("Full name")).to_have_value("Alice Example")


# ---- the story: every status in the timeline and the history, across a reload ------------------------


def test_order_received_is_in_the_live_timeline_without_reading_the_order_back(
    local_system: dict[str, Any], new_page: NewPage
) -> None:
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    expect(page.locator("#connection")).to_have_text("Live updates: on")
    # The read-back races the audit writer; the page must not need it to say the order was received.
    page.route(ORDER_READ, lambda route: route.abort() if route.request.method == "GET" else route.fallback())
    fill_order(page, "Enamel mug, black", 1)

    place(page)

    assert final_status(page) == "FULFILLED"
    entries = page.locator("#current-timeline li")
    expect(entries.first).to_contain_text("Order received")
    expect(entries).to_contain_text(["Order received", "Accepted", "Shipped", "Receipt ready"])


def test_the_history_row_follows_the_order_to_its_final_status(local_system: dict[str, Any], new_page: NewPage) -> None:
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    expect(page.locator("#connection")).to_have_text("Live updates: on")
    fill_order(page, "Organic T-shirt, size L", 1)
    order_id = place(page)
    row = page.locator(f'#orders li[data-order-id="{order_id}"]')
    expect(row).to_be_visible()
    # From now on the list cannot be read again: the row must follow what the customer sees live.
    page.route(ORDER_LIST, lambda route: route.abort() if route.request.method == "GET" else route.fallback())

    assert final_status(page) == "FULFILLED"
    expect(row).to_contain_text("Fulfilled")


def test_an_order_is_followed_to_its_end_without_reading_the_order_list_again(
    local_system: dict[str, Any], new_page: NewPage
) -> None:
    # The list is read when the page opens; each order placed adds its own row from the API's reply (issue 23:
    # two list reads per order made GET /orders the API's first choke point).
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    expect(page.locator("#connection")).to_have_text("Live updates: on")
    listed: list[str] = []
    page.on(
        "request",
        lambda request: (
            listed.append(request.url) if request.method == "GET" and ORDER_LIST.search(request.url) else None
        ),
    )
    fill_order(page, "Canvas tote bag", 2)

    order_id = place(page)

    assert final_status(page) == "FULFILLED"
    row = page.locator(f'#orders li[data-order-id="{order_id}"]')
    expect(row).to_contain_text("Fulfilled")
    expect(row).to_contain_text("2 items")
    expect(page.locator("#orders li").first).to_have_attribute("data-order-id", order_id)
    assert listed == []


def test_an_expanded_past_order_shows_its_items_and_its_receipt(
    local_system: dict[str, Any], new_page: NewPage
) -> None:
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    fill_order(page, "Canvas tote bag", 3)
    order_id = place(page)
    assert final_status(page) == "FULFILLED"

    page.reload()
    row = page.locator(f'#orders li[data-order-id="{order_id}"]')
    row.get_by_role("button", expanded=False).click()

    expect(row.locator(".items")).to_contain_text("Canvas tote bag × 3")
    expect(row.locator(".timeline")).to_contain_text("Receipt ready")
    expect(row.get_by_role("button", name=re.compile("View receipt"))).to_be_visible()
    expect(row).to_contain_text("Fulfilled")


def test_a_reload_mid_order_comes_back_to_the_same_order_and_address(
    local_system: dict[str, Any], new_page: NewPage
) -> None:
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    fill_order(page, "Hoodie, size L", 1)
    order_id = place(page)
    expect(page.locator("#current-status")).to_have_attribute("data-status", re.compile("PENDING|ACCEPTED"))

    page.reload()

    expect(page.locator("#current")).to_be_visible()
    assert current_order_id(page) == order_id
    expect(page.get_by_label("Address line 1")).to_have_value("1 Main Street")
    expect(page.get_by_label("Country code (two letters, e.g. IE)")).to_have_value("IE")
    assert final_status(page) == "FULFILLED"
    expect(page.locator("#current-timeline")).to_contain_text("Order received")
    expect(page.locator("#current-items")).to_contain_text("Hoodie, size L × 1")


# ---- a shop's look: pictures, references, receipts, a phone -----------------------------------------


def test_the_page_shows_pictures_a_reference_and_the_items_not_a_raw_id(
    local_system: dict[str, Any], new_page: NewPage
) -> None:
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    pictures = page.locator("#catalogue li img")
    expect(pictures).to_have_count(
        len(page.evaluate("async () => (await (await fetch('/config.json')).json()).catalogue"))
    )
    assert page.evaluate("() => [...document.querySelectorAll('#catalogue img')].every((i) => i.naturalWidth > 0)")
    fill_order(page, "Enamel mug, black", 2)

    order_id = place(page)

    reference = order_id.replace("-", "")[:8].upper()
    expect(page.locator("#current-title")).to_contain_text(f"{reference[:4]}-{reference[4:]}")
    expect(page.locator("#current-items")).to_contain_text("Enamel mug, black × 2")
    assert order_id not in (page.inner_text("main") or "")


def test_the_receipt_link_opens_the_customers_own_receipt_only(local_system: dict[str, Any], new_page: NewPage) -> None:
    alice, bob = local_system["users"]
    page = new_page()
    sign_in(page, local_system, alice)
    fill_order(page, "Baseball cap", 1)
    order_id = place(page)
    receipt = page.locator("#current-timeline").get_by_role("button", name=re.compile("View receipt"))
    expect(receipt).to_be_visible(timeout=45_000)
    with page.context.expect_page() as opened:
        receipt.click()
    tab = opened.value
    tab.wait_for_url(re.compile("X-Amz-Signature="))
    # make local serves the presigned link from the emulated bucket on the page's own origin.
    assert tab.url.startswith(local_system["url"].rstrip("/") + "/_s3/")
    assert f"/receipts/{alice['sub']}/{order_id}.json?" in tab.url
    assert "X-Amz-Expires=300" in tab.url
    tab.wait_for_load_state()
    assert order_id in tab.inner_text("body")

    bob_page = new_page()
    sign_in(bob_page, local_system, bob)
    status = bob_page.evaluate(
        """async (orderId) => {
            const { accessToken } = JSON.parse(sessionStorage.getItem("orderflow.tokens"));
            const headers = { Authorization: `Bearer ${accessToken}` };
            const reply = await fetch(`/orders/${orderId}/receipt`, { headers });
            return reply.status;
        }""",
        order_id,
    )
    assert status == 404


def test_the_local_sign_in_page_is_styled(local_system: dict[str, Any], new_page: NewPage) -> None:
    page = new_page(*PHONE)
    page.goto(local_system["url"])
    page.get_by_role("button", name="Sign in").click()
    button = page.get_by_role("button", name="Sign in")
    expect(button).to_have_css("background-color", "rgb(31, 95, 191)")
    assert (button.bounding_box() or {}).get("height", 0) >= 44


@pytest.mark.parametrize("width", [320, 360])
def test_sign_out_shows_and_quantities_are_touch_size_on_a_narrow_phone(
    local_system: dict[str, Any], new_page: NewPage, width: int
) -> None:
    page = new_page(width, 740)
    sign_in(page, local_system, local_system["users"][1])

    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_in_viewport(ratio=1)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width  # nothing off to the side
    heights = page.evaluate("() => [...document.querySelectorAll('#catalogue input')].map((i) => i.offsetHeight)")
    assert heights and min(heights) >= 44, heights


def test_the_live_updates_library_loads_only_once_signed_in(local_system: dict[str, Any], new_page: NewPage) -> None:
    page = new_page()
    loaded: dict[str, int] = {}
    page.on("response", lambda response: loaded.setdefault(response.url, len(response.body())))
    page.goto(local_system["url"])
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.wait_for_load_state("networkidle")

    before_sign_in = dict(loaded)
    assert not [url for url in before_sign_in if "mqtt" in url], before_sign_in
    assert sum(before_sign_in.values()) < 100_000, before_sign_in  # the MQTT library alone is 342 KB

    sign_in(page, local_system, local_system["users"][1])
    expect(page.locator("#connection")).to_have_text("Live updates: on")
    assert [url for url in loaded if url.endswith("/vendor/mqtt.esm.js")]


def test_axe_finds_no_violations_at_each_step(local_system: dict[str, Any], new_page: NewPage) -> None:
    for size in ((1280, 800), PHONE):
        # axe's script is evaluated in the page: the page's own CSP would refuse it.
        page = new_page(*size, bypass_csp=True)
        page.goto(local_system["url"])
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        steps = {"signed out": axe_violations(page)}
        page.get_by_role("button", name="Sign in").click()
        steps["sign-in page"] = axe_violations(page)
        page.goto(local_system["url"])
        sign_in(page, local_system, local_system["users"][1])
        steps["catalogue"] = axe_violations(page)
        page.get_by_role("button", name="Place order").click()
        expect(page.locator("#form-errors")).to_be_visible()
        steps["form errors"] = axe_violations(page)
        fill_order(page, "Enamel mug, white", 1)
        place(page)
        assert final_status(page) == "FULFILLED"
        steps["order shipped"] = axe_violations(page)
        page.locator("#orders li").first.get_by_role("button", expanded=False).click()
        expect(page.locator("#orders li .timeline").first).to_be_visible()
        steps["past order"] = axe_violations(page)

        assert {step: violations for step, violations in steps.items() if violations} == {}, size


# ---- make local's console --------------------------------------------------------------------------


def test_make_local_s_console_has_no_metric_json_or_traceback_after_orders_and_reloads(
    local_system: dict[str, Any], new_page: NewPage
) -> None:
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    fill_order(page, "Enamel mug, white", 1)
    place(page)
    assert final_status(page) == "FULFILLED"
    for _ in range(3):
        page.reload()  # the page's requests and its socket are cut off mid-reply
    page.goto(local_system["url"])

    console = Path(local_system["log"]).read_text()
    assert '"_aws"' not in console  # CloudWatch embedded metric format
    assert "Traceback" not in console and "BrokenPipeError" not in console, console[-8000:]
    assert "POST /orders → 202" in console
