"""The dated Lambda runtime table: well formed, and read strictly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from policy_pack.figures import FigureFileError
from policy_pack.runtimes import COLUMNS, load_runtime_table, runtime_table


def test_policy_runtime_table_dates_the_runtimes_the_issue_names() -> None:
    table = runtime_table()
    assert table["python3.9"].deprecated_on == date(2025, 12, 15)
    assert table["nodejs18.x"].deprecated_on == date(2025, 9, 1)
    for row in table.values():
        assert row.source.startswith("https://docs.aws.amazon.com/lambda/"), row
        assert date.fromisoformat(row.as_of) >= date(2026, 1, 1), row


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("runtime,date,source,as_of\n", "header must be"),
        (",".join(COLUMNS) + "\npython3.9,2025-12-15,https://x\n", "row 2 has 3 cells"),
        (",".join(COLUMNS) + "\npython3.9,15 Dec 2025,https://x,2026-12-06\n", "row 2: Invalid isoformat"),
        (",".join(COLUMNS) + "\n" + "python3.9,2025-12-15,https://x,2026-12-06\n" * 2, "row 3 repeats python3.9"),
    ],
)
def test_policy_runtime_table_rejects_a_malformed_file_naming_the_row(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "runtimes.csv"
    path.write_text("# a comment\n" + text)
    with pytest.raises(FigureFileError, match=message):
        load_runtime_table(path)
