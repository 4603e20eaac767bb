"""Strings of Django itself that a person sees in SMS and that Django's own
catalogue of a language SMS speaks lacks (Django's ``pt`` catalogue has no
"- Select an option -", the empty choice of a model field's select).

Listed here with ``gettext_noop`` so that makemessages keeps them in
``locale/``, whose catalogues Django reads before its own; nothing imports
this module.
"""

from django.utils.translation import gettext_noop

DJANGO_STRINGS = (
    gettext_noop("- Select an option -"),  # django.db.models.fields.BLANK_CHOICE_LABEL
)
