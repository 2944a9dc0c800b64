"""Offline models of the aws-apigateway package's remote components (see :mod:`offline.constructs`)."""

from __future__ import annotations

from offline.constructs import ComponentModel

MODELS: dict[str, ComponentModel] = {}
"""Component type token → model."""
