"""Where the project's code roots are, and how the offline tools import from them.

The handlers and the policy pack are not installed packages: Lambda imports a function's code from its task
root (``handlers/``) and the policy engine runs the pack from its folder (``policy/``). The offline tools load
a package from such a root by its file location (:func:`import_package`), so ``python -m offline.<tool>``
works from the project root without an installed package, a ``PYTHONPATH`` or an edit of ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Final

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
HANDLERS_DIR: Final = PROJECT_DIR / "handlers"
POLICY_DIR: Final = PROJECT_DIR / "policy"


def import_package(name: str, root: Path) -> ModuleType:
    """The package ``root/name`` imported under ``name``, as the runtime that owns ``root`` would import it.

    Its submodules then import as usual (``import name.sub``) through the package's own path. A package of
    that name imported already is returned as it is.

    Raises
    ------
    ModuleNotFoundError
        When ``root/name/__init__.py`` does not exist.
    """
    if name in sys.modules:
        return sys.modules[name]
    init = root / name / "__init__.py"
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])
    if spec is None or spec.loader is None or not init.is_file():
        raise ModuleNotFoundError(f"no package {name!r} in {root}", name=name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
