"""Template filters for times, dates and numbers: ``{% load sms_format %}``.

    {{ event.at|when }}            20 Aug 2026, 09:07 EAT (the country's zone)
    {{ event.at|when:"seconds" }}  20 Aug 2026, 09:07:12 EAT
    {{ item.received_on|day }}     20 Aug 2026 / 20 août 2026
    {{ total.items|count }}        12,400 / 12 400
    {{ item.weight_kg|weight }}    1,234.500 kg / 1 234,500 kg
    {{ row.year|year }}            2026

The functions are core.display's, which PDFs and spreadsheets call too.
"""

from django import template

from core import display

register = template.Library()


@register.filter
def when(value, arg=""):
    return display.when(value, seconds=arg == "seconds")


@register.filter
def day(value):
    return display.day(value)


@register.filter
def count(value):
    return display.count(value)


@register.filter
def weight(value):
    return display.weight(value)


@register.filter
def year(value):
    return display.year(value)
