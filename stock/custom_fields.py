"""Validation of custom values against the country's definitions (country schema).

Values are stored JSON-ready in StockItem.custom_values by definition key:
text -> str, integer -> int, decimal -> str (exact, e.g. "12.50"), date ->
"YYYY-MM-DD", choice -> the choice's value, multi_choice -> list of values,
boolean -> bool. Errors are keyed ``custom_<key>`` so a form that names its
fields that way can show each message next to its field.
"""

import contextvars
import datetime
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from core.decimals import parse_decimal
from core.words import yes_no

from .models import CustomFieldDefinition, ItemType


def error_key(key: str) -> str:
    return f"custom_{key}"


# Set by definitions_cached(): {item type id: definitions} for a batch of
# registrations (the ODK sync), so the definitions are read once per batch.
_batch_cache: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "sms_definitions_cache", default=None
)


@contextmanager
def definitions_cached():
    """Within the block, definitions_for_type reads each type's definitions
    once. For batch work that registers many items (the ODK sync); a
    definition changed meanwhile is seen by the next batch."""
    token = _batch_cache.set({})
    try:
        yield
    finally:
        _batch_cache.reset(token)


def definitions_for_type(item_type: ItemType) -> list[CustomFieldDefinition]:
    """Active definitions that apply to ``item_type`` (none linked = applies to all)."""
    cache = _batch_cache.get()
    if cache is not None and item_type.pk in cache:
        return list(cache[item_type.pk])
    definitions = CustomFieldDefinition.objects.filter(active=True).prefetch_related("applies_to")
    found = [
        d
        for d in definitions
        if not d.applies_to.all() or any(t.pk == item_type.pk for t in d.applies_to.all())
    ]
    if cache is not None:
        cache[item_type.pk] = found
    return list(found)


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == ()


def clean_value(definition: CustomFieldDefinition, value):
    """The JSON-ready value, or raise ValueError with the message for the user."""
    kind = definition.field_type
    types = CustomFieldDefinition.FieldType
    if kind == types.TEXT:
        return str(value).strip()
    if kind == types.INTEGER:
        if isinstance(value, bool):
            raise ValueError(_("Enter a whole number."))
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(_("Enter a whole number.")) from None
        if number != number.to_integral_value():
            raise ValueError(_("Enter a whole number."))
        return int(number)
    if kind == types.DECIMAL:
        try:
            number = parse_decimal(value)
        except ValueError:
            raise ValueError(_("Enter a number.")) from None
        return str(number)
    if kind == types.DATE:
        if isinstance(value, datetime.datetime):
            value = value.date()
        date = value if isinstance(value, datetime.date) else parse_date(str(value).strip())
        if date is None:
            raise ValueError(_("Enter a date as YYYY-MM-DD."))
        if date > timezone.localdate():
            raise ValueError(_("This date is in the future."))
        return date.isoformat()
    if kind == types.BOOLEAN:
        answer = yes_no(value)
        if answer is None:
            raise ValueError(_("Answer yes or no."))
        return answer
    allowed = [str(choice.get("value")) for choice in definition.choices or []]
    if kind == types.CHOICE:
        if str(value) not in allowed:
            raise ValueError(_("“%(value)s” is not one of the choices.") % {"value": value})
        return str(value)
    if kind == types.MULTI_CHOICE:
        values = value.split() if isinstance(value, str) else list(value)
        bad = [str(v) for v in values if str(v) not in allowed]
        if bad:
            raise ValueError(
                _("“%(value)s” is not one of the choices.") % {"value": ", ".join(bad)}
            )
        return [str(v) for v in values]
    raise ValueError(_("This field has an unknown type."))


def validate_custom_values(
    *, item_type: ItemType, values: dict | None, existing: dict | None = None
) -> tuple[dict, dict]:
    """Clean ``values`` (merged over ``existing``) for ``item_type``.

    Returns (clean values, errors). Keys of deactivated or no-longer-applying
    fields already in ``existing`` are kept as they are (old values stay
    readable); new values for them are refused.
    """
    values = dict(values or {})
    existing = dict(existing or {})
    definitions = {d.key: d for d in definitions_for_type(item_type)}
    errors: dict[str, list[str]] = {}
    result = dict(existing)
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            if key in existing and existing[key] == value:
                continue
            errors[error_key(key)] = [
                _("There is no active field “%(key)s” for this item type.") % {"key": key}
            ]
            continue
        if _empty(value):
            result.pop(key, None)
            continue
        try:
            result[key] = clean_value(definition, value)
        except ValueError as exc:
            errors[error_key(key)] = [str(exc)]
    for key, definition in definitions.items():
        if definition.required and _empty(result.get(key)) and error_key(key) not in errors:
            errors[error_key(key)] = [_("%(label)s is required.") % {"label": definition.label()}]
    return result, errors
