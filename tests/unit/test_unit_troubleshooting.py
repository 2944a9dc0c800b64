"""Every message ``docs/troubleshooting.md`` quotes as a symptom is one the code can print.

A quoted message (three words or more; names and codes are not messages) is the code's own text, with ``…``
wherever the code puts a value (a port, a key, a path): each piece between the ``…`` must be in a string the
program, the tools, the page or the Makefile writes (their fields written as ``…``), or be two such strings where
one fills the other's field. A message the code no longer prints fails here, naming it.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
TROUBLESHOOTING = PROJECT_DIR / "docs" / "troubleshooting.md"
PYTHON_SOURCES = ("__main__.py", "components", "handlers", "local", "offline", "orderflow", "policy", "benchmarks")
ELLIPSIS = "…"


def python_strings(path: Path) -> list[str]:
    """Every string literal of a module, an f-string's fields written as ``…``."""
    strings: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            strings.append("".join(part.value if isinstance(part, ast.Constant) else ELLIPSIS for part in node.values))
    return strings


@functools.cache
def source_text() -> str:
    """All the text the code can print, one string per line."""
    texts: list[str] = []
    for root in PYTHON_SOURCES:
        base = PROJECT_DIR / root
        for path in [base] if base.is_file() else sorted(base.rglob("*.py")):
            if "venv" not in path.parts and "tests" not in path.relative_to(PROJECT_DIR).parts:
                texts.extend(python_strings(path))
    for path in sorted((PROJECT_DIR / "web" / "public" / "js").rglob("*.js")):
        texts.append(path.read_text())
    texts.append(makefile_text())
    return "\n".join(texts)


def makefile_text() -> str:
    """The Makefile with its variables as ``…`` and an ``echo``'s arguments joined as the shell prints them."""
    text = (PROJECT_DIR / "Makefile").read_text()
    text = re.sub(r'"\s*\\\n\s*"', " ", text)
    while re.search(r"\$\([^()]*\)", text):
        text = re.sub(r"\$\([^()]*\)", ELLIPSIS, text)
    return re.sub(r"\$\$\{?\w+\}?", ELLIPSIS, text)


def quoted_symptoms() -> list[str]:
    """The `backticked` text of each table row's first cell (the symptom column) of orderflow's own tools."""
    quoted: list[str] = []
    # After a real deployment, the symptoms are AWS's own messages: only those before are orderflow's.
    ours = TROUBLESHOOTING.read_text().split("## After a real deployment")[0]
    for line in ours.splitlines():
        if not line.startswith("| ") or line.startswith(("| symptom", "|---")):
            continue
        symptom = line[2:].split(" | ", 1)[0]
        for double, single in re.findall(r"``(.+?)``|`([^`]+)`", symptom):
            quoted.append(double or single)
    return [text for text in quoted if len(text.split()) >= 3]


SYMPTOMS = quoted_symptoms()


def test_the_page_quotes_symptoms() -> None:
    assert len(SYMPTOMS) >= 10


@pytest.mark.parametrize("message", SYMPTOMS)
def test_every_quoted_message_is_printed_by_the_code(message: str) -> None:
    text = source_text()
    missing = [piece for piece in map(str.strip, message.split(ELLIPSIS)) if piece and not printed(piece, text)]
    assert not missing, f"docs/troubleshooting.md quotes {message!r}, but the code prints none of {missing}"


def printed(piece: str, text: str) -> bool:
    """Whether the code prints ``piece``: as it is, or as one string whose field another string fills."""
    if piece in text:
        return True
    return any(f"{piece[:split]}{ELLIPSIS}" in text and piece[split:].strip() in text for split in range(1, len(piece)))
