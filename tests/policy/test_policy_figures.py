"""The pack's price and quota files: well-formed, sourced, dated, and read the same by every consumer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policy_pack import cost
from policy_pack.figures import (
    ANY_REGION,
    PRICES_FILE,
    QUOTAS_FILE,
    FigureFileError,
    FigureTable,
    prices,
    quotas,
)

HEADER = "service,item,region,value,unit,source,as_of,note\n"


@pytest.mark.parametrize("table", [prices(), quotas()], ids=["prices", "quotas"])
def test_policy_figures_every_row_names_its_public_source_and_date(table: FigureTable) -> None:
    assert table.figures
    for figure in table:
        assert re.fullmatch(r"https://(aws\.amazon\.com|docs\.aws\.amazon\.com)/\S+", figure.source), figure
        assert re.fullmatch(r"20\d\d-\d\d-\d\d", figure.as_of), figure
        assert figure.value >= 0 and figure.unit


def test_policy_figures_files_say_how_other_regions_are_priced() -> None:
    assert "For any other region the us-east-1 figure is used" in PRICES_FILE.read_text()
    assert "region '*' is the figure for every region" in QUOTAS_FILE.read_text()


def test_policy_figures_lookup_falls_back_and_says_so() -> None:
    own = quotas().find("stepfunctions", "standard_state_transition_rate", "eu-west-1")
    assert (own.value, own.fallback) == (1500, None)
    other = quotas().find("stepfunctions", "standard_state_transition_rate", "ap-south-1")
    assert other.figure.region == ANY_REGION and other.value == 500 and other.fallback
    priced = prices().find("lambda", "request", "eu-west-1")
    assert priced.figure.region == "us-east-1"
    assert priced.fallback == "no eu-west-1 figure: the us-east-1 figure is used"
    with pytest.raises(KeyError, match="no figure for lambda nope"):
        prices().find("lambda", "nope", "eu-west-1")


def test_policy_figures_idle_cost_table_carries_the_published_figures() -> None:
    # Figures from the AWS pricing pages the file cites (us-east-1), not a re-read of the file.
    assert cost.PRICES["nat_gateway"] == 32.85
    assert cost.API_CACHE_MONTHLY["6.1"] == 146.00


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("lambda,request,us-east-1,cheap,USD,https://aws.amazon.com/lambda/pricing/,2026-11-30,", "is not a number"),
        ("lambda,request,us-east-1,1,USD,https://aws.amazon.com/lambda/pricing/,30/11/2026,", "is not a YYYY-MM-DD"),
        ("lambda,request,us-east-1,1,,https://aws.amazon.com/lambda/pricing/,2026-11-30,", "has an empty unit"),
        ("lambda,request,us-east-1,1,USD", "has 5 cells"),
    ],
)
def test_policy_figures_malformed_rows_name_file_row_and_column(tmp_path: Path, row: str, problem: str) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("# comment\n" + HEADER + row + "\n")
    with pytest.raises(FigureFileError, match=rf"prices.csv: row 2 .*{problem}"):
        FigureTable.load(path)


def test_policy_figures_repeated_rows_and_bad_headers_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "quotas.csv"
    row = "sns,publish_rate,*,1,per s,https://docs.aws.amazon.com/general/latest/gr/sns.html,2026-11-30,\n"
    path.write_text(HEADER + row + row)
    with pytest.raises(FigureFileError, match="row 3 repeats sns/publish_rate/"):
        FigureTable.load(path)
    path.write_text("service,value\n")
    with pytest.raises(FigureFileError, match="header must be"):
        FigureTable.load(path)
