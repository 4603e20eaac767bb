"""Strings of Django itself that a person sees in SMS and that Django's own
catalogue of a language SMS speaks lacks or writes otherwise: Django's ``pt``
catalogue has no "- Select an option -" (the empty choice of a model field's
select) and capitalises the months ("Nov."), which Portuguese since the 1990
spelling agreement writes in lower case ("30 nov. 2026", DATE_FORMAT "j N Y").

Listed here so that makemessages keeps them in ``locale/``, whose catalogues
Django reads before its own (the French entries repeat Django's French);
nothing imports this module.
"""

from django.utils.translation import gettext_noop, pgettext_lazy

DJANGO_STRINGS = (
    gettext_noop("- Select an option -"),  # django.db.models.fields.BLANK_CHOICE_LABEL
    # django.utils.dates.MONTHS_AP, the "N" of a date format.
    pgettext_lazy("abbrev. month", "Jan."),
    pgettext_lazy("abbrev. month", "Feb."),
    pgettext_lazy("abbrev. month", "March"),
    pgettext_lazy("abbrev. month", "April"),
    pgettext_lazy("abbrev. month", "May"),
    pgettext_lazy("abbrev. month", "June"),
    pgettext_lazy("abbrev. month", "July"),
    pgettext_lazy("abbrev. month", "Aug."),
    pgettext_lazy("abbrev. month", "Sept."),
    pgettext_lazy("abbrev. month", "Oct."),
    pgettext_lazy("abbrev. month", "Nov."),
    pgettext_lazy("abbrev. month", "Dec."),
)
