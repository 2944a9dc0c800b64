"""Customer-status workflow step: see app.py."""
