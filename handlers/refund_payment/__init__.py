"""Fulfillment compensation: refund payment; see app.py."""
