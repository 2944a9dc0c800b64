"""Each handler reads exactly the environment variables docs/contracts.md lists for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers.env_contract import HANDLERS_DIR, EnvScanError, contract_env_vars, env_vars_read_by

CONTRACT = contract_env_vars()
HANDLER_PACKAGES = sorted(path.parent.name for path in HANDLERS_DIR.glob("*/app.py"))


def test_every_handler_package_is_in_the_contract_and_every_contract_row_has_a_package() -> None:
    assert sorted(CONTRACT) == HANDLER_PACKAGES
    assert len(HANDLER_PACKAGES) == 12


@pytest.mark.parametrize("package", sorted(CONTRACT))
def test_a_handler_reads_exactly_its_contract_variables(package: str) -> None:
    assert env_vars_read_by(package) == CONTRACT[package]


def write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


def test_the_scan_follows_shared_imports_and_ignores_runtime_variables(tmp_path: Path) -> None:
    write(tmp_path, "fn/__init__.py", "")
    write(
        tmp_path,
        "fn/app.py",
        "import os\nfrom shared.config import bus\nA = os.environ['A']\nos.getenv('AWS_REGION')\n",
    )
    write(tmp_path, "shared/__init__.py", "import os\nS = os.environ.get('SHARED_INIT')\n")
    write(tmp_path, "shared/config.py", "from os import environ\nfrom shared import util\nbus = environ['BUS']\n")
    write(tmp_path, "shared/util.py", "import os\nX = os.getenv('UTIL')\nP = os.environ['POWERTOOLS_X']\n")
    write(tmp_path, "shared/unused.py", "import os\nU = os.environ['NOT_IMPORTED']\n")

    assert env_vars_read_by("fn", tmp_path) == {"A", "BUS", "SHARED_INIT", "UTIL"}


def test_a_computed_variable_name_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "fn/app.py", "import os\nNAME = 'A'\nvalue = os.environ[NAME]\n")

    with pytest.raises(EnvScanError, match=r"app\.py:3"):
        env_vars_read_by("fn", tmp_path)


def test_an_unknown_package_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        env_vars_read_by("nope", tmp_path)


def test_the_contract_table_is_read_with_shared_rows_split(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts.md"
    contracts.write_text(
        "# c\n\n## Lambda functions\n| package | trigger | env |\n|---|---|---|\n"
        "| `a`, `b` | x | `ONE`, `TWO` |\n| `c` | y | `THREE` |\n\n## Next\n| `d` | z | `NO` |\n"
    )

    assert contract_env_vars(contracts) == {"a": {"ONE", "TWO"}, "b": {"ONE", "TWO"}, "c": {"THREE"}}
