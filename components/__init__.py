"""Reusable Pulumi components for event-driven serverless systems on AWS."""
