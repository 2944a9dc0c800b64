"""A Pulumi program's ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``, read into the engine's config map.

Apart from :mod:`offline.harness` because it needs no Pulumi SDK: the offline plan reads the stack's config
to start the policy pack first thing, so the pack imports its rules while this process imports the SDK.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from offline.paths import PROJECT_DIR


class StackNotFoundError(Exception):
    """No ``Pulumi.<stack>.yaml`` exists for the requested stack."""


class ProjectFiles(Protocol):
    """Reads a program's ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the Pulumi CLI does.

    The harness records any program; the reader is passed in (the project's is ``orderflow.pulumi_files``).
    """

    def load_yaml(self, text: str) -> Any:
        """The YAML document as the CLI parses it."""

    def project_name(self, project_file: Path) -> str:
        """``name`` in ``Pulumi.yaml``."""

    def project_config_defaults(self, project_file: Path) -> dict[str, str]:
        """The config values ``Pulumi.yaml`` declares, fully qualified."""

    def read_stack_config(self, path: Path, project: str, *, secret_placeholder: str | None = None) -> dict[str, str]:
        """The stack file's config map, fully qualified, as the engine receives it."""


def project_files() -> ModuleType:
    """The project's reader of its Pulumi files, the default of :func:`run_program` (its own stacks only)."""
    from orderflow import pulumi_files

    return pulumi_files


def project_name(project_dir: Path = PROJECT_DIR, files: ProjectFiles | None = None) -> str:
    """The ``name`` in ``Pulumi.yaml``."""
    return (files or project_files()).project_name(project_dir / "Pulumi.yaml")


def load_stack_config(
    stack: str,
    project_dir: Path = PROJECT_DIR,
    *,
    secret_placeholder: str | None = None,
    files: ProjectFiles | None = None,
) -> dict[str, str]:
    """Read ``Pulumi.<stack>.yaml`` into the engine's config map, as the Pulumi CLI does.

    Keys are fully qualified (``project:key``); scalars are passed as written (YAML 1.2: ``yes`` is a
    string), lists and maps as JSON; ``Pulumi.yaml``'s declared defaults fill the keys the stack does not
    set.

    Raises
    ------
    StackNotFoundError
        When the stack file does not exist.
    ValueError
        From the reader: the stack file holds ``secure:`` values (only the CLI can decrypt them) and no
        ``secret_placeholder`` is given to read them as, or it cannot be read as the CLI reads it.
    """
    files = files or project_files()
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackNotFoundError(f"stack {stack!r}: {path.name} not found (known stacks: {', '.join(known)})")
    config = files.project_config_defaults(project_dir / "Pulumi.yaml")
    config.update(
        files.read_stack_config(path, project_name(project_dir, files), secret_placeholder=secret_placeholder)
    )
    return config
