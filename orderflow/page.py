"""The order page's runtime ``config.json``: one shape, written by the stack (from its outputs) and by ``make local``.

``web/public/js/main.js`` reads it at start-up; nothing in the page is built per environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from components.identity import OAUTH_SCOPES

PRICE_CURRENCY: Final = "EUR"
"""ISO 4217 currency of every catalogue price (``handlers/shared/catalogue.py``'s ``CURRENCY``; a test keeps
them equal)."""
MAX_LINE_QUANTITY: Final = 100
"""Most of one product in an order: ``handlers/shared/models/api.py``'s ``MAX_LINE_QUANTITY`` (a test keeps them
equal), so the form refuses what the API would."""
MAX_ORDER_LINES: Final = 50
"""Most lines in an order: ``handlers/shared/models/api.py``'s ``MAX_ORDER_LINES`` (a test keeps them equal)."""
API_PATHS: Final = ("/orders", "/orders/*")
"""Paths of the order API, served on the page's own origin."""


def realtime_url(endpoint: Any, authorizer_name: Any, *, scheme: str = "wss") -> str:
    """MQTT-over-WebSocket URL naming the IoT custom authorizer (signing disabled: the JWT goes as password)."""
    return f"{scheme}://{endpoint}/mqtt?x-amz-customauthorizer-name={authorizer_name}"


def page_config(
    *,
    api_base_url: Any,
    sign_in_url: Any,
    client_id: Any,
    realtime: Any,
    topic_prefix: str,
    catalogue: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """The content of ``config.json``.

    Parameters
    ----------
    api_base_url:
        Where the order API is; ``""`` when it is served on the page's own origin.
    sign_in_url:
        Origin of the OAuth endpoints (``/oauth2/authorize``, ``/oauth2/token``, ``/logout``).
    client_id:
        The app client the page signs in with.
    realtime:
        The MQTT-over-WebSocket URL (:func:`realtime_url`).
    topic_prefix:
        First level of the order topics (``<prefix>/<sub>/<orderId>``).
    catalogue:
        ``handlers/shared/catalogue.json``'s products; stock levels are left out.

    Returns
    -------
    dict[str, Any]
        JSON-ready values (Pulumi outputs allowed, resolved by ``pulumi.Output.json_dumps``).
    """
    return {
        "apiBaseUrl": api_base_url,
        "signIn": {"url": sign_in_url, "clientId": client_id, "scopes": list(OAUTH_SCOPES)},
        "realtime": {"url": realtime, "topicPrefix": topic_prefix},
        "currency": PRICE_CURRENCY,
        "limits": {"maxLineQuantity": MAX_LINE_QUANTITY, "maxOrderLines": MAX_ORDER_LINES},
        "catalogue": [
            {"sku": product["sku"], "name": product["name"], "unitPriceCents": product["unitPriceCents"]}
            for product in catalogue
        ],
    }
