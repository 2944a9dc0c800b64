"""Order timeline writer (SQS batch consumer): see app.py."""
