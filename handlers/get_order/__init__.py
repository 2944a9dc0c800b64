"""GET /orders/{orderId} (HTTP API): see app.py."""
