"""Days as the country lives them.

A date filter ("from 3 March to 5 March") means whole days where the stores
are, not in UTC: 3 March starts at midnight in the country's time zone.
"""

import datetime
import zoneinfo

from django.db import connection
from django.utils import timezone


def country_zone() -> datetime.tzinfo:
    """The time zone of the country the request is for (django-tenants puts
    the country on the connection); Django's current time zone elsewhere
    (the public host, a script that only set the schema)."""
    name = getattr(getattr(connection, "tenant", None), "time_zone", None)
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_current_timezone()


def day_start(day: datetime.date, zone: datetime.tzinfo | None = None) -> datetime.datetime:
    """Midnight at the start of ``day`` in ``zone`` (default: the country's)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone or country_zone())


def day_end(day: datetime.date, zone: datetime.tzinfo | None = None) -> datetime.datetime:
    """Midnight at the end of ``day``: a filter "until ``day``" is ``< day_end(day)``."""
    return day_start(day + datetime.timedelta(days=1), zone)
