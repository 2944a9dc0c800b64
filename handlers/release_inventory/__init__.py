"""Fulfillment compensation: release inventory; see app.py."""
