"""Reporting periods as short labels: months "2026-03" and quarters "2026-Q1".

Labels sort correctly as strings within one granularity, and map to consecutive integer
indexes so that lags shift by period, never by row position. Pure: stdlib only.
"""

import re
from datetime import date, datetime

MONTH = "month"
QUARTER = "quarter"

# Either kind of label, as a JSON Schema / ECMAScript pattern (for API documentation).
LABEL_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$"
_MONTH_LABEL = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER_LABEL = re.compile(r"^(\d{4})-Q([1-4])$")


# The window of periods the platform accepts from anyone (imports, forms, the API): wide
# enough for any real history and plan, narrow enough that shifting a label by years of lags
# or computing its end date never leaves the calendar (year 9999 + 1 month would). Labels
# compare as text, so these two bound months and quarters alike.
FIRST_YEAR = 1970
LAST_YEAR = 2199
WINDOW_FIRST = f"{FIRST_YEAR}-01"
WINDOW_LAST = f"{LAST_YEAR}-Q4"


class PeriodError(ValueError):
    """A period label that is not "YYYY-MM" or "YYYY-Qn"."""


def granularity_of(label: str) -> str:
    """Return MONTH or QUARTER for a valid label; raise PeriodError otherwise."""
    if _MONTH_LABEL.match(label):
        return MONTH
    if _QUARTER_LABEL.match(label):
        return QUARTER
    raise PeriodError(f"'{label}' is not a period; use YYYY-MM (2026-03) or YYYY-Qn (2026-Q1)")


def check_label(label: str) -> str:
    """Return MONTH or QUARTER for a label inside the accepted window (FIRST_YEAR to
    LAST_YEAR); raise PeriodError for any other text."""
    granularity = granularity_of(label)
    if not FIRST_YEAR <= int(label[:4]) <= LAST_YEAR:
        raise PeriodError(
            f"'{label}' is outside the periods this platform keeps ({FIRST_YEAR}–{LAST_YEAR})"
        )
    return granularity


def in_window(label: str) -> bool:
    """True for a valid label inside the accepted window."""
    try:
        check_label(label)
    except PeriodError:
        return False
    return True


def label_for(moment: date | datetime, granularity: str) -> str:
    """The label of the period containing `moment`."""
    if granularity == MONTH:
        return f"{moment.year:04d}-{moment.month:02d}"
    if granularity == QUARTER:
        return f"{moment.year:04d}-Q{(moment.month - 1) // 3 + 1}"
    raise PeriodError(f"unknown granularity '{granularity}'")


def index_of(label: str) -> int:
    """Consecutive integer index of a period (months: year*12+m-1, quarters: year*4+q-1)."""
    month = _MONTH_LABEL.match(label)
    if month:
        return int(month.group(1)) * 12 + int(month.group(2)) - 1
    quarter = _QUARTER_LABEL.match(label)
    if quarter:
        return int(quarter.group(1)) * 4 + int(quarter.group(2)) - 1
    raise PeriodError(f"'{label}' is not a period; use YYYY-MM (2026-03) or YYYY-Qn (2026-Q1)")


def label_from_index(index: int, granularity: str) -> str:
    """Inverse of index_of for the given granularity."""
    if granularity == MONTH:
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    if granularity == QUARTER:
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    raise PeriodError(f"unknown granularity '{granularity}'")


def shift(label: str, steps: int) -> str:
    """The label `steps` periods after (negative: before) `label`, same granularity."""
    return label_from_index(index_of(label) + steps, granularity_of(label))


def period_range(first: str, last: str) -> list[str]:
    """Every label from `first` to `last` inclusive; both must share a granularity."""
    granularity = granularity_of(first)
    if granularity_of(last) != granularity:
        raise PeriodError(f"'{first}' and '{last}' have different granularities")
    return [label_from_index(i, granularity) for i in range(index_of(first), index_of(last) + 1)]


def start_date(label: str) -> date:
    """First day of the period."""
    index = index_of(label)
    if granularity_of(label) == MONTH:
        return date(index // 12, index % 12 + 1, 1)
    return date(index // 4, (index % 4) * 3 + 1, 1)


def end_date(label: str) -> date:
    """First day after the period (exclusive end)."""
    return start_date(shift(label, 1))
