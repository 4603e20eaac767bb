"""Presentation helpers for reports, and the dashboard's charts."""

import datetime

from django import template

from accounts.permissions import may
from core import display

register = template.Library()


def _shown(value, kind):
    if value is None or value == "":
        return ""
    if kind == "kg":
        return display.number(value, 3)
    if kind == "int":
        return display.count(value)
    if kind == "year":
        return display.year(value)
    if isinstance(value, datetime.date):
        return display.day(value)
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
