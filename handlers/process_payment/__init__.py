"""Fulfillment step: take payment; see app.py."""
