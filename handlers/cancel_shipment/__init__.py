"""Fulfillment compensation: cancel the shipment; see app.py."""
