"""Where the project's code roots are, and how the offline tools import from them.

The handlers and the policy pack are not installed packages: Lambda imports a function's code from its task
root (``handlers/``) and the policy engine runs the pack from its folder (``policy/``). The offline tools and
the local system import that code the same way, so ``python -m offline.<tool>`` and ``python -m local`` work
from the project root without an installed package or a ``PYTHONPATH``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
HANDLERS_DIR: Final = PROJECT_DIR / "handlers"
POLICY_DIR: Final = PROJECT_DIR / "policy"


def importable(folder: Path) -> None:
    """Put ``folder`` first on the import path unless it is on it already, as Lambda and the policy engine do."""
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
