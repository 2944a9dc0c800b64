"""A copy of the project to make a newcomer's mistakes in, and ``make`` run in it as they run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Shared with the copy rather than rebuilt: the installed venv and the layer build cache.
SHARED_DIRS = ("venv", "build", "web/node_modules", "web/public/vendor")


def project_files() -> list[str]:
    """Every file of the working tree that git would commit (tracked, or new and not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (PROJECT_DIR / name).is_file()]


def copy_project(destination: Path, *, share: tuple[str, ...] = SHARED_DIRS) -> Path:
    """Copy the project into ``destination`` (mtimes kept, so make sees the venv as up to date)."""
    for name in project_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_DIR / name, target)
    for name in share:
        if (PROJECT_DIR / name).exists():
            (destination / name).symlink_to(PROJECT_DIR / name, target_is_directory=True)
    return destination


def run_make(project: Path, *args: str, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` in ``project``, as a newcomer types it (no inherited MAKEFLAGS; ``None`` unsets a variable)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def run_offline_preview(project: Path, stack: str = "dev") -> subprocess.CompletedProcess[str]:
    """``python -m offline.preview --offline`` in ``project``: the plan's own exit status, without make."""
    return subprocess.run(
        [sys.executable, "-m", "offline.preview", "--offline", "--stack", stack],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
