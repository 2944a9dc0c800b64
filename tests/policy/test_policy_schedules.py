"""Schedule expressions to runs per month, for the idle cost of scheduled Glue jobs and crawlers."""

from __future__ import annotations

import pytest

from policy_pack.schedules import DAYS_PER_MONTH, ScheduleError, runs_per_month


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("cron(15 12 * * ? *)", DAYS_PER_MONTH),
        ("cron(0/15 * * * ? *)", 4 * 24 * DAYS_PER_MONTH),
        ("cron(*/5 * * * ? *)", 12 * 24 * DAYS_PER_MONTH),
        ("cron(0 8 ? * MON-FRI *)", 5 * DAYS_PER_MONTH / 7),
        ("cron(0 8 ? * MON,FRI *)", 2 * DAYS_PER_MONTH / 7),
        ("cron(0 0 1,15 * ? *)", 2),
        ("cron(0 10 L * ? *)", 1),
        ("cron(0 9 ? JAN-JUL 3#2 *)", 7 / 12),
        ("cron(0 6,18 * JAN,JUL ? 2027)", 2 * DAYS_PER_MONTH * 2 / 12),
        ("rate(5 minutes)", 730 * 12),
        ("rate(1 hour)", 730),
        ("rate(2 days)", DAYS_PER_MONTH / 2),
    ],
)
def test_policy_schedule_runs_per_month(expression: str, runs: float) -> None:
    assert runs_per_month(expression) == pytest.approx(runs)


@pytest.mark.parametrize(
    "expression", ["every tuesday", "cron(0 12 * * ?)", "cron(0 12 * * ? * *)", "rate(0 hours)", "cron(x 12 * * ? *)"]
)
def test_policy_schedule_unreadable_expressions_raise_naming_them(expression: str) -> None:
    with pytest.raises(ScheduleError, match=r"is neither|6 fields|positive|not a value"):
        runs_per_month(expression)
