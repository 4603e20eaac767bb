"""Custom field definitions (country schema): an administrator's fields for
items, each change logged before/after (FieldDefinitionChange)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.errors import raise_errors

from ..models import CustomFieldDefinition, FieldDefinitionChange, ItemType
from ..scope import reach_of

DEFINITION_FIELDS = ("key", "labels", "field_type", "unit", "required", "choices", "order")


def definition_snapshot(definition: CustomFieldDefinition) -> dict:
    """A definition as its change log records it (provisioning writes the same shape)."""
    return {
        "key": definition.key,
        "labels": definition.labels,
        "field_type": definition.field_type,
        "unit": definition.unit,
        "required": definition.required,
        "choices": definition.choices,
        "order": definition.order,
        "active": definition.active,
        "applies_to": sorted(definition.applies_to.values_list("code", flat=True)),
    }


def _require_fields_admin(actor) -> None:
    require(
        actor,
        "stock.add_customfielddefinition",
        "stock.change_customfielddefinition",
        message=_("Only SMS administrators manage custom fields."),
    )
    # A field applies to every store's items (required or not, its choices):
    # like the country's settings, an administrator of some stores only reads
    # them (scope is a ceiling). Support access is given for all sites.
    if not (reach_of(actor).every_site or actor.is_superuser):
        raise ValidationError(
            _(
                "Only an administrator of all sites changes the custom fields: they apply to every store."
            )
        )


def _definition_errors(definition: CustomFieldDefinition, errors: dict) -> None:
    labels = definition.labels if isinstance(definition.labels, dict) else {}
    if not any(str(v).strip() for v in labels.values()):
        errors["labels"] = [_("Give the field a label.")]
    kinds = CustomFieldDefinition.FieldType
    if definition.field_type in (kinds.CHOICE, kinds.MULTI_CHOICE):
        choices = definition.choices if isinstance(definition.choices, list) else []
        values = [str(c.get("value", "")).strip() for c in choices if isinstance(c, dict)]
        if not values or "" in values or len(set(values)) != len(values):
            errors["choices"] = [_("Give at least one choice, each with its own value.")]
    elif definition.choices:
        definition.choices = []
    try:
        definition.full_clean(exclude=["applies_to", *errors])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages)


@transaction.atomic(durable=True)
def custom_field_save(
    *, actor, definition: CustomFieldDefinition | None, data: dict
) -> CustomFieldDefinition:
    """Create (definition=None) or update a definition; logs before/after.

    ``data``: key, labels {lang: text}, field_type, unit, required, choices
    [{"value", "labels"}], order, applies_to (ItemTypes or ids; empty = all).
    The key and type of an existing field don't change: stored values depend
    on them.
    """
    _require_fields_admin(actor)
    errors: dict[str, list[str]] = {}
    creating = definition is None
    if creating:
        definition = CustomFieldDefinition()
        before = None
    else:
        definition = CustomFieldDefinition.objects.select_for_update().get(pk=definition.pk)
        before = definition_snapshot(definition)
        for name in ("key", "field_type"):
            if name in data and data[name] != getattr(definition, name):
                errors[name] = [_("This cannot change once the field exists.")]
    for name in DEFINITION_FIELDS:
        if name in data and name not in errors:
            setattr(definition, name, data[name])
    _definition_errors(definition, errors)
    types = None
    if "applies_to" in data:
        ids = [t.pk if isinstance(t, ItemType) else t for t in data["applies_to"] or ()]
        types = list(ItemType.objects.filter(pk__in=ids))
        if len(types) != len(set(ids)):
            errors["applies_to"] = [_("Choose item types from the list.")]
    raise_errors(errors)
    definition.save()
    if types is not None:
        definition.applies_to.set(types)
    after = definition_snapshot(definition)
    if after != before:
        FieldDefinitionChange.objects.create(
            definition=definition,
            action=FieldDefinitionChange.Action.CREATED
            if creating
            else FieldDefinitionChange.Action.UPDATED,
            before=before,
            after=after,
            changed_by=actor,
        )
    return definition


@transaction.atomic(durable=True)
def custom_field_deactivate(
    *, actor, definition: CustomFieldDefinition, active: bool = False
) -> CustomFieldDefinition:
    """Deactivate (or, with active=True, reactivate) a field; values stay on items."""
    _require_fields_admin(actor)
    definition = CustomFieldDefinition.objects.select_for_update().get(pk=definition.pk)
    if definition.active == active:
        return definition
    before = definition_snapshot(definition)
    definition.active = active
    definition.save(update_fields=["active"])
    FieldDefinitionChange.objects.create(
        definition=definition,
        action=FieldDefinitionChange.Action.REACTIVATED
        if active
        else FieldDefinitionChange.Action.DEACTIVATED,
        before=before,
        after=definition_snapshot(definition),
        changed_by=actor,
    )
    return definition
