"""docs/configuration.md: its table is Pulumi.yaml's declarations, and its error examples are the real messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orderflow.config import declared_keys
from orderflow.pulumi_files import ConfigDeclaration
from tests.offline.newcomer import PROJECT_DIR, copy_project, run_offline_preview

DOC = (PROJECT_DIR / "docs" / "configuration.md").read_text()
EXAMPLE = re.compile(r"```yaml\n(?P<stack>config:\n.*?)```\s*```text\n(?P<message>.*?)\n```", re.DOTALL)
ENTRY_KEY = re.compile(r"^  (\w+:\w+):", re.MULTILINE)
EXAMPLES = [(match["stack"], match["message"]) for match in EXAMPLE.finditer(DOC)]


def table_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`orderflow:"):
            rows[cells[0].strip("`").split(":", 1)[1]] = cells
    return rows


def documented_default(declaration: ConfigDeclaration) -> str:
    if declaration.default == "":
        return '`""` (none)'
    if isinstance(declaration.default, list):
        return f"`[{', '.join(declaration.default)}]`"
    return f"`{declaration.default_text}`"


def test_the_table_lists_every_declared_key_with_its_type_and_default() -> None:
    rows = table_rows()
    declared = declared_keys()
    assert sorted(rows) == sorted(declared)
    for key, declaration in declared.items():
        expected_type = f"array of {declaration.items}" if declaration.type == "array" else declaration.type
        assert rows[key][1] == expected_type, key
        assert rows[key][2] == documented_default(declaration), key


def with_example(stack_file: str, example: str) -> str:
    """The stack file with the example's entries in place of its own (values kept exactly as written)."""
    entries = example.split("\n", 1)[1]
    keys = set(ENTRY_KEY.findall(entries))
    kept = [line for line in stack_file.splitlines() if not set(ENTRY_KEY.findall(line)) & keys]
    return "\n".join(kept) + "\n" + entries


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("config-doc"))


def test_the_doc_has_examples() -> None:
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize(("stack", "message"), EXAMPLES, ids=[m.split(":")[2][:40] for _, m in EXAMPLES])
def test_each_error_example_is_the_real_message(project: Path, stack: str, message: str) -> None:
    original = (PROJECT_DIR / "Pulumi.dev.yaml").read_text()
    (project / "Pulumi.dev.yaml").write_text(with_example(original, stack))
    result = run_offline_preview(project)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == message
