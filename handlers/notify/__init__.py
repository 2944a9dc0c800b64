"""Customer notifications (IoT Core + SNS): see app.py."""
