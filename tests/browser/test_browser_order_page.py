"""The order page in a real browser against ``make local``: through the page only, as a customer uses it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.pagekit import (
    MQTT_URL,
    current_order_id,
    fill_order,
    final_status,
    order_gets,
    sign_in,
    watch_statuses,
)


def test_a_customer_watches_the_order_go_through_to_fulfilled_without_reloading(
    local_system: dict[str, Any], new_page: Callable[[], Page]
) -> None:
    alice = local_system["users"][0]
    page = new_page()
    sign_in(page, local_system, alice)
    expect(page.locator("#connection")).to_have_text("Live updates: on")
    fill_order(page, "Enamel mug, black", 2)
    page.evaluate("() => { window.sameDocument = true; }")
    watch_statuses(page)
    gets = order_gets(page)

    page.get_by_role("button", name="Place order").click()

    assert final_status(page) == "FULFILLED"
    seen = page.evaluate("() => window.seenStatuses")
    # The status only steps forward. Pushes may arrive out of order (EventBridge keeps none), so "Accepted" can be
    # passed over on the status line, but never in the timeline.
    assert seen[-1] == "FULFILLED" and seen == sorted(seen, key=["PENDING", "ACCEPTED", "FULFILLED"].index), seen
    expect(page.locator("#current-timeline")).to_contain_text("Accepted")
    assert page.evaluate("() => window.sameDocument") is True  # never reloaded
    # Pushed over MQTT: while the socket is up the page reads the order once, it does not poll.
    assert len(gets) <= 2, gets
    expect(page.locator("#current-timeline")).to_contain_text("Shipped")
    expect(page.locator("#announcer")).to_contain_text("Fulfilled")
    order_id = current_order_id(page)
    expect(page.locator(f'#orders li[data-order-id="{order_id}"]')).to_contain_text("Fulfilled")


# In the page, before its own scripts: every frame the live-updates socket receives is kept as text, and the
# answer to a placed order is held until frames saying that order was accepted and fulfilled have reached the page.
HOLD_THE_202_UNTIL_THE_ORDER_IS_PUSHED_FULFILLED = """
    window.framesReceived = [];
    const PageWebSocket = window.WebSocket;
    window.WebSocket = class extends PageWebSocket {
        constructor(...args) {
            super(...args);
            this.addEventListener("message", (event) => {
                const bytes = typeof event.data === "string" ? event.data : new Uint8Array(event.data);
                window.framesReceived.push(typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes));
            });
        }
    };
    const pageFetch = window.fetch;
    window.fetch = async (resource, options) => {
        const response = await pageFetch(resource, options);
        if (options?.method === "POST" && String(resource).endsWith("/orders") && response.status === 202) {
            const { orderId } = await response.clone().json();
            const pushed = (status) =>
                window.framesReceived.some((frame) => frame.includes(orderId) && frame.includes(status));
            while (!pushed("ACCEPTED") || !pushed("FULFILLED")) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return response;
    };
"""


def test_updates_pushed_before_the_page_reads_its_202_are_shown_not_lost(
    local_system: dict[str, Any], new_page: Callable[[], Page]
) -> None:
    page = new_page()
    page.add_init_script(HOLD_THE_202_UNTIL_THE_ORDER_IS_PUSHED_FULFILLED)
    sign_in(page, local_system, local_system["users"][1])
    expect(page.locator("#connection")).to_have_text("Live updates: on")
    fill_order(page, "Enamel mug, black", 1)
    watch_statuses(page)

    page.get_by_role("button", name="Place order").click()

    assert final_status(page) == "FULFILLED"
    # Every push came before the page knew the order: only those kept while placing it say it was accepted first.
    assert page.evaluate("() => window.seenStatuses") == ["PENDING", "ACCEPTED", "FULFILLED"]
    expect(page.locator("#current-timeline")).to_contain_text("Shipped")


def test_an_out_of_stock_order_ends_failed_with_the_reason_shown(
    local_system: dict[str, Any], new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    fill_order(page, "Desk lamp", 100)  # 5 in stock

    page.get_by_role("button", name="Place order").click()

    assert final_status(page) == "FAILED"
    expect(page.locator("#current-reason")).to_be_visible()
    expect(page.locator("#current-reason")).to_contain_text(re.compile(r"out of stock", re.IGNORECASE))


def test_a_double_click_and_a_lost_response_still_make_one_order(
    local_system: dict[str, Any], new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, local_system, local_system["users"][0])
    expect(page.locator("#orders li").first).to_be_visible()
    before = page.locator("#orders li").count()
    keys: list[str] = []

    def lose_first_response(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        response = route.fetch()  # the order is placed...
        if len(keys) == 1:
            route.abort("connectionreset")  # ...but its answer never reaches the page
        else:
            route.fulfill(response=response)

    page.route(
        re.compile(r"/orders$"),
        lambda route: lose_first_response(route) if route.request.method == "POST" else route.fallback(),
    )
    fill_order(page, "Canvas tote bag", 1)

    page.get_by_role("button", name="Place order").dblclick()

    assert final_status(page) == "FULFILLED"
    assert len(keys) >= 2 and len(set(keys)) == 1, keys  # retried, with the same Idempotency-Key
    page.reload()
    expect(page.locator("#orders li")).to_have_count(before + 1)


def test_another_customer_sees_neither_the_order_nor_its_updates(
    local_system: dict[str, Any], new_page: Callable[[], Page]
) -> None:
    alice, bob = local_system["users"]
    alice_page, bob_page = new_page(), new_page()
    sign_in(alice_page, local_system, alice)
    sign_in(bob_page, local_system, bob)
    expect(bob_page.locator("#connection")).to_have_text("Live updates: on")
    fill_order(alice_page, "Baseball cap", 1)
    alice_page.get_by_role("button", name="Place order").click()
    order_id = current_order_id(alice_page)
    assert final_status(alice_page) == "FULFILLED"

    bob_page.reload()
    expect(bob_page.get_by_role("heading", name="Your past orders")).to_be_visible()
    expect(bob_page.locator(f'#orders li[data-order-id="{order_id}"]')).to_have_count(0)
    # Bob's own session, from Bob's page: the API says the order does not exist...
    status = bob_page.evaluate(
        """async (orderId) => {
            const { accessToken } = JSON.parse(sessionStorage.getItem("orderflow.tokens"));
            const response = await fetch(`/orders/${orderId}`, { headers: { Authorization: `Bearer ${accessToken}` } });
            return response.status;
        }""",
        order_id,
    )
    assert status == 404
    # ...and the broker refuses his subscription to Alice's topic (the authorizer's policy decides).
    granted = bob_page.evaluate(
        """async (topic) => {
            const { default: mqtt } = await import("/vendor/mqtt.esm.js");
            const config = await (await fetch("/config.json")).json();
            const { accessToken } = JSON.parse(sessionStorage.getItem("orderflow.tokens"));
            const sub = JSON.parse(atob(accessToken.split(".")[1].replaceAll("-", "+").replaceAll("_", "/"))).sub;
            const client = mqtt.connect(config.realtime.url, {
                clientId: `${sub}-probe`, username: "", password: accessToken, protocolVersion: 4,
                reconnectPeriod: 0, timerVariant: "native",
            });
            await new Promise((resolve, reject) => { client.on("connect", resolve); client.on("error", reject); });
            const subscribe = (filter) => new Promise((resolve) => client.subscribe(filter, { qos: 1 },
                (error, granted) => resolve(error ? `refused: ${error.message}` : `granted ${granted[0].qos}`)));
            const outcomes = [await subscribe(topic), await subscribe(`${config.realtime.topicPrefix}/${sub}/+`)];
            client.end(true);
            return outcomes;
        }""",
        f"orders/{alice['sub']}/{order_id}",
    )
    # Refused for Alice's topic (SUBACK 0x80), granted for his own.
    assert granted[0].startswith("refused") and granted[1] == "granted 1", granted
    expect(bob_page.locator("#current")).to_be_hidden()
    assert order_id not in (bob_page.text_content("main") or "")


def test_the_socket_dropping_mid_order_still_ends_with_the_right_status(
    local_system: dict[str, Any], new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sockets: list[WebSocketRoute] = []
    refuse = {"new connections": False}

    def through(ws: WebSocketRoute) -> None:
        if refuse["new connections"]:
            ws.close()
            return
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(MQTT_URL, through)
    sign_in(page, local_system, local_system["users"][0])
    expect(page.locator("#connection")).to_have_text("Live updates: on")
    fill_order(page, "Organic T-shirt, size M", 1)
    watch_statuses(page)
    gets = order_gets(page)

    page.get_by_role("button", name="Place order").click()
    expect(page.locator("#current-status")).to_have_attribute("data-status", re.compile("PENDING|ACCEPTED"))
    refuse["new connections"] = True
    for ws in sockets:
        ws.close()  # the socket drops mid-order and cannot come back for now

    expect(page.locator("#connection")).to_contain_text("checking your order every")
    assert final_status(page) == "FULFILLED"
    assert len(gets) >= 2  # the final status came from polling GET /orders/{orderId}
