"""Dates from feeds, sitemaps and pages: RFC 822, ISO 8601 and W3C-DTF, always as aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime

_YEAR_MONTH = re.compile(r"^\d{4}-\d{2}$")


def parse_date(text: str | None) -> datetime | None:
    """A date or datetime string as an aware UTC datetime; naive values are taken as UTC; junk is None."""
    if not text:
        return None
    text = text.strip()
    if not text or len(text) > 64:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        if _YEAR_MONTH.match(text):
            parsed = datetime.fromisoformat(text + "-01")
        else:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if parsed is None or not 1990 <= parsed.year <= 2200:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
