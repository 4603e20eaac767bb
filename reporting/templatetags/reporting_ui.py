"""Presentation helpers for reports, and the dashboard's charts."""

import datetime
from decimal import Decimal

from django import template
from django.utils import formats

from accounts.permissions import may

register = template.Library()


def _shown(value, kind):
    if value is None or value == "":
        return ""
    if kind == "kg":
        return formats.number_format(Decimal(value), 3, use_l10n=True, force_grouping=True)
    if kind == "int":
        return formats.number_format(int(value), 0, use_l10n=True, force_grouping=True)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


@register.filter
def cells(row, columns):
    """[(shown value, column kind)] of one table row."""
    return [
        (_shown(value, column.kind), column.kind)
        for value, column in zip(row, columns, strict=False)
    ]


@register.inclusion_tag("reporting/_charts.html", takes_context=True)
def stock_charts(context):
    """Stock over time by category and by site, for the dashboard (the user's scope)."""
    from reporting.views import charts_for

    user = context["request"].user
    if not may(user, "reporting.view_reports"):
        return {"charts": []}
    return {"charts": charts_for(user)}


@register.inclusion_tag("reporting/_cites_filing.html", takes_context=True)
def cites_filing_panel(context):
    """For those who file: last year's CITES declarations, filed or not, and
    the deadline (28 February)."""
    from reporting.selectors import cites_states

    return {"states": cites_states(user=context["request"].user)}
