"""Put the project root and the Lambda code root on the import path, as Pulumi and Lambda do."""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
for path in (PROJECT_DIR, PROJECT_DIR / "handlers"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
