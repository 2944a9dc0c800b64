"""POST /orders (HTTP API): see app.py."""
