"""How often an AWS schedule expression fires, for idle-cost estimates of scheduled work.

AWS cron expressions have six fields: minutes, hours, day of month, month, day of week, year
(``cron(15 12 * * ? *)``); rate expressions are ``rate(<n> minute|minutes|hour|hours|day|days)``
(https://docs.aws.amazon.com/glue/latest/dg/monitor-data-warehouse-schedule.html,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html).

The estimate is an average month of 730 hours: a day-of-week list counts 30.42/7 days per weekday, a
day-of-month list counts once per month, ``L``/``W``/``#`` forms count once a month, and a year field is
taken as repeating every year.
"""

from __future__ import annotations

import math
import re
from typing import Final

HOURS_PER_MONTH: Final = 730
DAYS_PER_MONTH: Final = HOURS_PER_MONTH / 24

_MONTH_NAMES: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAY_NAMES: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTHS: Final = {name: index for index, name in enumerate(_MONTH_NAMES, 1)}
_WEEKDAYS: Final = {name: index for index, name in enumerate(_WEEKDAY_NAMES, 1)}
_RATE: Final = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.IGNORECASE)
_CRON: Final = re.compile(r"^cron\((.*)\)$", re.IGNORECASE)
# Last day (L, L-3, 5L), nearest weekday (15W, LW), nth weekday (3#2, FRI#2).
_ONCE_A_MONTH: Final = re.compile(r"^(\d+|[A-Z]{3})?(L|W|LW|#\d)$|^L-\d+$")
_UNIT_MINUTES: Final = {"minute": 1, "hour": 60, "day": 1440}


class ScheduleError(ValueError):
    """A schedule expression this module cannot read; the message quotes it."""


def _count(field: str, low: int, high: int, names: dict[str, int] | None = None) -> float:
    """How many values of ``low..high`` one cron field selects."""

    def value(text: str) -> int:
        text = text.upper()
        if names and text in names:
            return names[text]
        if not text.isdigit():
            raise ScheduleError(f"{text!r} is not a value between {low} and {high}")
        return int(text)

    total = 0.0
    for part in field.split(","):
        part = part.strip()
        if part in ("*", "?"):
            total += high - low + 1
        elif _ONCE_A_MONTH.match(part.upper()):
            total += 1  # last day, nearest weekday, nth weekday: once a month
        elif "/" in part:
            start_text, step_text = part.split("/", 1)
            start = low if start_text in ("*", "") else value(start_text.split("-")[0])
            end = value(start_text.split("-")[1]) if "-" in start_text else high
            step = value(step_text)
            if step <= 0:
                raise ScheduleError(f"step {step_text!r} must be positive")
            total += max(0, math.floor((end - start) / step) + 1)
        elif "-" in part:
            first, last = (value(bound) for bound in part.split("-", 1))
            total += max(0, last - first + 1)
        else:
            value(part)
            total += 1
    return total


def runs_per_month(expression: str) -> float:
    """The average number of times ``expression`` fires in a 730-hour month.

    Raises
    ------
    ScheduleError
        When the expression is neither ``cron(...)`` with six fields nor ``rate(...)``.
    """
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        amount, unit = int(rate[1]), rate[2].lower().rstrip("s")
        if amount <= 0:
            raise ScheduleError(f"{expression!r}: the rate must be positive")
        return HOURS_PER_MONTH * 60 / (amount * _UNIT_MINUTES[unit])
    cron = _CRON.match(text)
    if not cron:
        raise ScheduleError(f"{expression!r} is neither cron(...) nor rate(...)")
    fields = cron[1].split()
    if len(fields) != 6:
        raise ScheduleError(f"{expression!r}: an AWS cron expression has 6 fields, not {len(fields)}")
    minutes, hours, day_of_month, month, day_of_week, _year = fields
    try:
        per_day = _count(minutes, 0, 59) * _count(hours, 0, 23)
        if day_of_month in ("*", "?") and day_of_week in ("*", "?"):
            days = DAYS_PER_MONTH
        elif day_of_week in ("*", "?"):
            days = _count(day_of_month, 1, 31)
        else:
            days = sum(
                1 if _ONCE_A_MONTH.match(part.upper()) else _count(part, 1, 7, _WEEKDAYS) * DAYS_PER_MONTH / 7
                for part in day_of_week.split(",")
            )
        months = _count(month, 1, 12, _MONTHS) / 12
    except ScheduleError as error:
        raise ScheduleError(f"{expression!r}: {error}") from error
    return per_day * days * months
