"""Service errors (no database, no other app).

Services collect every problem of the input as {field: [messages]} before
writing anything, then raise them all at once: the form shows each message
next to its field and nothing is half written.
"""

from django.core.exceptions import ValidationError


def raise_errors(errors: dict) -> None:
    """Raise ValidationError(errors) when there is any; return otherwise."""
    if errors:
        raise ValidationError(errors)
