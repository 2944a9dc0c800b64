"""docs/operations.md: one runbook entry per alarm of the prod stack, and only commands the tool accepts."""

from __future__ import annotations

import re
import shlex

import pytest

from orderflow.ops.cli import parser
from tests.offline.newcomer import PROJECT_DIR
from tests.recorded import recorded_program

RUNBOOK = (PROJECT_DIR / "docs" / "operations.md").read_text()
ENTRY = re.compile(
    r"^\| `((?:ops|operators)-[a-z0-9-]+)` \| (?P<means>[^|]+) \| (?P<run>[^|]+) \| (?P<done>[^|]+) \|$", re.MULTILINE
)
MAKE_OPS = re.compile(r'^make ops ARGS="([^"]+)"', re.MULTILINE)
# Commands written in the runbook's table cells: `status --since 1h`, `dlq redrive order-audit`...
CELL_COMMAND = re.compile(r"`((?:status|dlq show|dlq redrive|replay|redrive-execution|reconcile)\b[^`]*)`")
PLACEHOLDERS = {"ORDER_ID": "0b9d9a4e", "…": "now", "0b9d9a4e-…": "0b9d9a4e"}


def prod_alarms() -> set[str]:
    return {alarm.name for alarm in recorded_program("prod").of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}


def test_every_prod_alarm_has_one_runbook_entry() -> None:
    entries = [match.group(1) for match in ENTRY.finditer(RUNBOOK)]
    assert len(entries) == len(set(entries))
    assert set(entries) == prod_alarms()


def test_every_entry_says_what_it_means_what_to_run_and_when_it_is_done() -> None:
    for match in ENTRY.finditer(RUNBOOK):
        assert len(match["means"].strip()) > 20, match.group(1)
        assert len(match["run"].strip()) > 5, match.group(1)
        assert match["done"].strip(), match.group(1)


def commands() -> list[str]:
    """The examples at the top, and every command an entry says to run."""
    found = MAKE_OPS.findall(RUNBOOK)
    for match in ENTRY.finditer(RUNBOOK):
        found += CELL_COMMAND.findall(match["run"])
    return sorted(set(found))


def test_the_runbook_names_commands() -> None:
    assert len(commands()) > 15


@pytest.mark.parametrize("command", commands())
def test_each_command_in_the_runbook_is_one_the_tool_accepts(command: str) -> None:
    words = [PLACEHOLDERS.get(word, word) for word in shlex.split(command)]
    parser().parse_args(words)
