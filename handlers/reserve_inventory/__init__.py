"""Fulfillment step: reserve inventory; see app.py."""
