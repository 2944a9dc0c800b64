"""IoT Core custom authorizer for the real-time channel: see app.py."""
