"""Which environment variables each Lambda package reads, found statically, and what the contract says.

``env_vars_read_by(package)`` parses the package's modules and every ``shared`` module they import
(transitively) and collects the names read through ``os.environ[...]``, ``os.environ.get(...)`` or
``os.getenv(...)``. Names must be string literals: a computed name cannot be checked against the
contract, so it is reported as an error. Runtime variables (``POWERTOOLS_*``, ``AWS_*``) are left out.

``contract_env_vars()`` reads the "Lambda functions" table of docs/contracts.md.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
HANDLERS_DIR = PROJECT_DIR / "handlers"
CONTRACTS = PROJECT_DIR / "docs" / "contracts.md"
SHARED_PACKAGE = "shared"
RUNTIME_PREFIXES = ("POWERTOOLS_", "AWS_")


class EnvScanError(ValueError):
    """An environment read the scan cannot resolve to a literal name; the message gives file and line."""


def _module_file(module: str, handlers_dir: Path) -> Path | None:
    """The file of a dotted module under ``handlers_dir``, or None when it is not there."""
    base = handlers_dir.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_parent_packages(module: str) -> list[str]:
    """``shared.models.api`` → ``shared``, ``shared.models``, ``shared.models.api`` (all run on import)."""
    parts = module.split(".")
    return [".".join(parts[: index + 1]) for index in range(len(parts))]


def _shared_imports(tree: ast.AST) -> set[str]:
    """Modules of the shared package imported by a module (``from shared import x`` may name a module)."""
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names if alias.name.split(".")[0] == SHARED_PACKAGE)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.split(".")[0] == SHARED_PACKAGE
        ):
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def _is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    ) or (isinstance(node, ast.Name) and node.id == "environ")


def _literal(node: ast.expr, path: Path) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    raise EnvScanError(f"{path}:{node.lineno}: environment variable name is not a string literal")


def _env_reads(tree: ast.AST, path: Path) -> set[str]:
    """Literal names read from the environment in one module."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            names.add(_literal(node.slice, path))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            is_environ_get = node.func.attr in {"get", "setdefault", "pop"} and _is_os_environ(node.func.value)
            is_getenv = (
                node.func.attr == "getenv" and isinstance(node.func.value, ast.Name) and node.func.value.id == "os"
            )
            if is_environ_get or is_getenv:
                if not node.args:
                    raise EnvScanError(f"{path}:{node.lineno}: environment read without a name")
                names.add(_literal(node.args[0], path))
    return names


def env_vars_read_by(package: str, handlers_dir: Path = HANDLERS_DIR) -> set[str]:
    """Environment variables a Lambda package reads, itself or through the shared modules it imports.

    Parameters
    ----------
    package:
        Handler package name, e.g. ``create_order``.
    handlers_dir:
        Folder holding the handler packages and ``shared``.

    Returns
    -------
    set[str]
        Variable names, without ``POWERTOOLS_*`` and ``AWS_*`` runtime variables.

    Raises
    ------
    FileNotFoundError
        When the package does not exist.
    EnvScanError
        When a read does not use a literal name.
    """
    package_dir = handlers_dir / package
    if not package_dir.is_dir():
        raise FileNotFoundError(f"no handler package {package!r} in {handlers_dir}")
    pending = sorted(package_dir.rglob("*.py"))
    seen: set[Path] = set()
    names: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        names |= _env_reads(tree, path)
        for module in _shared_imports(tree):
            for dependency in _with_parent_packages(module):
                dependency_file = _module_file(dependency, handlers_dir)
                if dependency_file is not None:
                    pending.append(dependency_file)
    return {name for name in names if not name.startswith(RUNTIME_PREFIXES)}


def contract_env_vars(contracts: Path = CONTRACTS) -> dict[str, set[str]]:
    """The environment variables docs/contracts.md assigns to each package ("Lambda functions" table).

    Parameters
    ----------
    contracts:
        Path of the contracts document.

    Returns
    -------
    dict[str, set[str]]
        Package → variable names (besides ``POWERTOOLS_*``).

    Raises
    ------
    ValueError
        When the table is missing.
    """
    text = contracts.read_text()
    section = re.search(r"^## Lambda functions\n(.*?)(?=^## )", text, flags=re.MULTILINE | re.DOTALL)
    if section is None:
        raise ValueError(f"{contracts}: no '## Lambda functions' section")
    table: dict[str, set[str]] = {}
    for line in section.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        variables = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[-1]))
        for package in re.findall(r"`([a-z_]+)`", cells[0]):
            table[package] = variables
    if not table:
        raise ValueError(f"{contracts}: the 'Lambda functions' table has no rows")
    return table
