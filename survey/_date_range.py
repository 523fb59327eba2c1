"""The plausible range of a date answer: the one rule the form, the store and the widget share.

A date item has no range of its own (the questionnaire model has none), so every date answer
must lie between :data:`EARLIEST_DATE` and one year after today. That keeps typing slips
(``0001-01-01``, ``2202-05-01``) out of the data, whether they come from the web form or from
a paper questionnaire keyed into a table.
"""

from __future__ import annotations

from datetime import date

#: The earliest date answer accepted (a birth year or moving-in date before it is a slip).
EARLIEST_DATE = date(1900, 1, 1)


def latest_date(today: date | None = None) -> date:
    """One year after ``today`` (default: the current date); 29 February becomes 28 February."""
    today = today or date.today()
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February, and next year is no leap year
        return today.replace(year=today.year + 1, day=28)


def date_range(today: date | None = None) -> tuple[date, date]:
    """``(earliest, latest)`` date answer accepted, both inclusive."""
    return EARLIEST_DATE, latest_date(today)


def date_in_range(value: date, today: date | None = None) -> bool:
    """Whether ``value`` lies in :func:`date_range`."""
    earliest, latest = date_range(today)
    return earliest <= value <= latest
