"""Fulfillment step: book the shipment; see app.py."""
