"""Length limits of free text: notes, reasons, captions, references.

Every free-text input has a limit, checked twice with the same message, which
names the field: by its form (the browser also stops typing at it) and by the
service that writes it, so the ODK sync and scripts meet the same rule. A
model CharField's limit is its ``max_length``; the TextFields (notes,
reasons, witnesses…) stay unbounded in the database and are limited here.
"""

from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from core import display

# Notes, reasons, witnesses, resolution and sign-off notes.
NOTE_MAX_LENGTH = 2000
# A one-line text without a model field of its own (a form's short inputs).
LINE_MAX_LENGTH = 200


def too_long(label, limit: int, length: int) -> str:
    return _("%(field)s: at most %(limit)s characters (this text has %(length)s).") % {
        "field": capfirst(str(label)),
        "limit": display.count(limit),
        "length": display.count(length),
    }


class LengthLimit:
    """A form field validator whose message names the field (its label, read
    when the value is checked)."""

    def __init__(self, field, limit: int):
        self.field, self.limit = field, limit

    def __call__(self, value):
        if value is not None and len(str(value)) > self.limit:
            raise ValidationError(
                too_long(self.field.label or "", self.limit, len(str(value))), code="max_length"
            )


def limit_length(field, limit: int = NOTE_MAX_LENGTH):
    """Give a free-text form field its limit; returns the field."""
    field.max_length = limit
    field.widget.attrs["maxlength"] = str(limit)
    field.validators.append(LengthLimit(field, limit))
    return field


def limit_of(model, name: str, limits: dict | None = None) -> int:
    if limits and name in limits:
        return limits[name]
    return model._meta.get_field(name).max_length or NOTE_MAX_LENGTH


def text_errors(model, *, limits: dict | None = None, **values) -> dict[str, list[str]]:
    """{field name: [message]} for each of ``values`` (the texts a service is
    about to write to ``model``'s fields of those names) that is too long."""
    errors = {}
    for name, value in values.items():
        if value is None:
            continue
        limit = limit_of(model, name, limits)
        if len(str(value)) > limit:
            label = model._meta.get_field(name).verbose_name
            errors[name] = [too_long(label, limit, len(str(value)))]
    return errors
