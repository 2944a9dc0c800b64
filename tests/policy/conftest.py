"""Make the policy pack (``policy/``) and this folder's test kit importable, as the engine's runner does."""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
for path in (PROJECT_DIR / "policy", Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
