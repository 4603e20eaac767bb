"""Days as the country lives them.

A date filter ("from 3 March to 5 March") means whole days where the stores
are, not in UTC: 3 March starts at midnight in the country's time zone. On a
country's host, tenants.middleware.CountryMiddleware makes that zone Django's
current one for the request; a task or script passes the zone it means
(tenants.current.country_zone()).
"""

import datetime

from django.utils import timezone


def day_start(day: datetime.date, zone: datetime.tzinfo | None = None) -> datetime.datetime:
    """Midnight at the start of ``day`` in ``zone`` (default: the current
    time zone, which is the country's during a request)."""
    return datetime.datetime.combine(
        day, datetime.time.min, tzinfo=zone or timezone.get_current_timezone()
    )


def day_end(day: datetime.date, zone: datetime.tzinfo | None = None) -> datetime.datetime:
    """Midnight at the end of ``day``: a filter "until ``day``" is ``< day_end(day)``."""
    return day_start(day + datetime.timedelta(days=1), zone)
