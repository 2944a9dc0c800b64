"""Entry point of ``python -m orderflow.ops``."""

from __future__ import annotations

import sys

from orderflow.ops.cli import main

sys.exit(main())
