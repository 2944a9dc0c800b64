"""Offline models of the awsx package's EC2, load balancer and CloudTrail components (see :mod:`offline.constructs`)."""

from __future__ import annotations

from offline.constructs import ComponentModel

MODELS: dict[str, ComponentModel] = {}
"""Component type token → model."""
