"""``python -m orderflow.ops``: operate a deployed orderflow stack (status, DLQs, replay, redrive, reconcile).

Everything it needs comes from the stack's outputs (``pulumi stack output --json``, or a file given with
``--outputs``) and boto3; ``docs/operations.md`` is the runbook that says which command answers which alarm.
"""
