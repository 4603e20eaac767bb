"""Forms of the stock screens (country schema).

Forms only parse and check the shape of input; every rule about the register
(which values are allowed together, marks, photos, custom values) is enforced
by stock.services, whose ValidationError messages are put back next to the
fields here (``add_service_errors``).
"""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import ModelMultipleChoiceField
from core.forms import add_service_errors as core_add_service_errors
from core.text import limit_length

from . import selectors
from .field_rules import fields_for_type
from .fields import DateInput, ItemTypeChoiceField, SiteChoiceField
from .labels import DEFAULT_FORMAT, format_choices
from .models import (
    ArchiveRecord,
    CustomFieldDefinition,
    ItemType,
    StockItem,
    localized_label,
)
from .scope import visible_sites
from .submissions import SubmitOnceMixin

# Units shown next to the inputs (the labels of the model fields also carry them).
UNITS = {
    "weight_kg": "kg",
    "length_outer_cm": "cm",
    "length_inner_cm": "cm",
    "lip_circumference_cm": "cm",
    "base_circumference_cm": "cm",
    "length_cm": "cm",
    "dna_weight_removed_g": "g",
}

# Plain words for people who never filled in a form on a computer.
HELP = {
    "weight_kg": _("Weigh the item on the scale and write the weight in kilograms, e.g. 12.350."),
    "weight_is_final": _("Untick if the item is still drying and will be weighed again."),
    "pieces": _("How many pieces are in this lot."),
    "bags": _("How many bags the lot is kept in."),
    "side": _("Left or right tusk, if you know it."),
    "country_of_origin": _("Two capital letters, e.g. KE for Kenya."),
    "country_of_seizure": _("Two capital letters, e.g. TZ for Tanzania."),
    "cites_mark": _("Only if the item already carries a mark. Leave empty to get a new one."),
    "received_by": _("The name of the person who received the item in the store."),
}

GROUP_TITLES = {
    "description": _("What the item is"),
    "origin": _("Where it comes from"),
    "receipt": _("Arrival in the store"),
    "dna": _("DNA sample (if one was taken)"),
    "custom": _("Other information"),
    "notes": _("Notes"),
}


def model_formfield(name: str) -> forms.Field:
    """The form field of a StockItem model field, with date pickers and number
    inputs that suit a tablet."""
    model_field = StockItem._meta.get_field(name)
    field = model_field.formfield()
    if isinstance(field, forms.DateField):
        field.widget = DateInput()
    if isinstance(field, forms.DecimalField):
        field.widget.attrs.update({"inputmode": "decimal"})
    if name in ("country_of_origin", "country_of_seizure"):
        field.widget.attrs.update({"maxlength": 2, "size": 3, "autocapitalize": "characters"})
    if name == "notes":
        field.widget.attrs.update({"rows": 3})
    if model_field.get_internal_type() == "TextField":
        limit_length(field)  # unbounded in the database; limited here and in the service
    if name == "weight_kg":
        # Same rule as the service, checked here too so it shows with the other errors.
        field.validators.append(
            MinValueValidator(Decimal("0.001"), message=_("The weight must be more than 0 kg."))
        )
    if name in HELP:
        field.help_text = HELP[name]
    return field


def custom_formfield(definition: CustomFieldDefinition) -> forms.Field:
    kind = definition.field_type
    types = CustomFieldDefinition.FieldType
    common = {"label": definition.label(), "required": definition.required}
    if kind == types.INTEGER:
        field = forms.IntegerField(**common)
    elif kind == types.DECIMAL:
        field = forms.DecimalField(**common, widget=forms.NumberInput(attrs={"step": "any"}))
        field.widget.attrs["inputmode"] = "decimal"
    elif kind == types.DATE:
        field = forms.DateField(**common, widget=DateInput())
    elif kind in (types.CHOICE, types.MULTI_CHOICE):
        choices = [
            (c.get("value"), localized_label(c.get("labels") or {}, None, fallback=c.get("value")))
            for c in definition.choices or []
        ]
        if kind == types.CHOICE:
            field = forms.ChoiceField(choices=[("", "—"), *choices], **common)
        else:
            field = forms.MultipleChoiceField(
                choices=choices, widget=forms.CheckboxSelectMultiple, **common
            )
    elif kind == types.BOOLEAN:
        field = forms.TypedChoiceField(
            choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))],
            coerce=lambda v: v == "yes",
            empty_value=None,
            **common,
        )
    else:
        field = forms.CharField(max_length=500, **common)
    field.unit = definition.unit
    return field


def custom_initial(definition: CustomFieldDefinition, value):
    if definition.field_type == CustomFieldDefinition.FieldType.BOOLEAN and value is not None:
        return "yes" if value is True else "no"
    return value


def custom_to_json(value):
    """A cleaned custom value in the JSON shape stored on the item."""
    if value is None or value == "" or value == []:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "as_tuple"):  # Decimal
        return str(value)
    return value


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos in one input; their content is checked by stock.services."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _service_name(aliases):
    """The form's name for a service's field name: ``aliases`` first; the
    services call a custom field ``custom_values.<key>``, the forms ``custom_<key>``."""

    def rename(name: str) -> str:
        name = (aliases or {}).get(name, name)
        if name.startswith("custom_values."):
            return f"custom_{name.split('.', 1)[1]}"
        return name

    return rename


def add_service_errors(form: forms.Form, error: ValidationError, aliases=None) -> None:
    """core.forms.add_service_errors for the stock forms (``aliases`` maps a
    service's name to the form's, e.g. choices -> choices_text)."""
    core_add_service_errors(form, error, aliases=_service_name(aliases))


class ItemFieldsMixin:
    """Builds the fields of one item type: model fields, then its custom fields."""

    def build_item_fields(self, item_type: ItemType, *, definitions) -> None:
        self.item_type = item_type
        self.groups = fields_for_type(item_type)
        for names in self.groups.values():
            for name in names:
                self.fields[name] = model_formfield(name)
                self.fields[name].unit = UNITS.get(name, "")
        self.definitions = list(definitions)
        for definition in self.definitions:
            self.fields[f"custom_{definition.key}"] = custom_formfield(definition)
        self.groups["custom"] = [f"custom_{d.key}" for d in self.definitions]

    def item_data(self) -> dict:
        return {
            name: self.cleaned_data.get(name)
            for key, names in self.groups.items()
            if key not in ("custom", "mark")
            for name in names
        }

    def custom_values(self) -> dict:
        values = {}
        for definition in self.definitions:
            value = custom_to_json(self.cleaned_data.get(f"custom_{definition.key}"))
            if value is not None:
                values[definition.key] = value
        return values

    def grouped(self):
        """[(title, [bound fields])] for the template, empty groups left out."""
        return [
            (GROUP_TITLES[key], [self[name] for name in names])
            for key, names in self.groups.items()
            if names
        ]


def item_type_queryset():
    return selectors.item_types_enabled()


class RegisterStartForm(forms.Form):
    """Step 1: where the item is and what it is."""

    site = SiteChoiceField(
        queryset=None,
        label=_("Store"),
        empty_label=_("Choose the store"),
        help_text=_("The store where the item is kept."),
    )
    item_type = ItemTypeChoiceField(
        queryset=None,
        label=_("Type of item"),
        empty_label=_("Choose the type of item"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = visible_sites(user).filter(active=True)
        self.fields["item_type"].queryset = item_type_queryset()


class RegisterForm(SubmitOnceMixin, ItemFieldsMixin, RegisterStartForm):
    """Step 2: the fields that apply to the chosen type, the mark, the photos."""

    def __init__(self, *args, user, item_type: ItemType, definitions, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["site"].widget = forms.HiddenInput()
        self.fields["item_type"].widget = forms.HiddenInput()
        self.build_item_fields(item_type, definitions=definitions)
        self.fields["received_on"].initial = timezone.localdate()
        if item_type.marking != "none":
            self.fields["cites_mark"] = model_formfield("cites_mark")
            self.fields["cites_mark"].required = False
            self.groups["mark"] = ["cites_mark"]
        self.fields["photos"] = MultiplePhotoField(
            label=_("Photos"),
            required=False,
            help_text=_("Take or choose one or more photos (JPEG, PNG or WebP)."),
        )

    def clean_item_type(self):
        item_type = self.cleaned_data["item_type"]
        if item_type != self.item_type:
            raise ValidationError(_("The type of item changed. Start again."))
        return item_type


GROUP_TITLES["mark"] = _("CITES mark")


class CorrectForm(ItemFieldsMixin, forms.Form):
    """The correctable fields of an item, pre-filled, and a required reason."""

    reason = limit_length(
        forms.CharField(
            label=_("Why are you correcting this item?"),
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=_("For example: the scale was wrong, the tusk was weighed again."),
        )
    )

    def __init__(self, *args, item: StockItem, definitions, **kwargs):
        self.item = item
        super().__init__(*args, **kwargs)
        reason = self.fields.pop("reason")
        self.build_item_fields(item.item_type, definitions=definitions)
        if item.item_type.marking != "none" or item.cites_mark:
            self.fields["cites_mark"] = model_formfield("cites_mark")
            self.fields["cites_mark"].required = False
            self.fields["cites_mark"].help_text = ""
            self.groups["mark"] = ["cites_mark"]
        for key, names in self.groups.items():
            for name in names:
                if key == "custom":
                    definition = next(d for d in self.definitions if f"custom_{d.key}" == name)
                    value = (item.custom_values or {}).get(definition.key)
                    self.fields[name].initial = custom_initial(definition, value)
                else:
                    self.fields[name].initial = getattr(item, name)
        self.fields["reason"] = reason

    def changes(self) -> dict:
        """Only the fields whose value differs from the item's."""
        changes = {
            name: value
            for name, value in self.item_data().items()
            if _normalise(value) != _normalise(getattr(self.item, name))
        }
        if "cites_mark" in self.fields:
            mark = (self.cleaned_data.get("cites_mark") or "").strip()
            if " ".join(mark.split()).upper() != (self.item.cites_mark or ""):
                changes["cites_mark"] = mark or None
        old_custom = self.item.custom_values or {}
        custom = {}
        for definition in self.definitions:
            value = custom_to_json(self.cleaned_data.get(f"custom_{definition.key}"))
            if value != old_custom.get(definition.key):
                custom[definition.key] = value  # None empties it
        if custom:
            changes["custom_values"] = custom
        return changes


def _normalise(value):
    return "" if value is None else value


class ArchiveForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why does the item leave the stock?"),
        choices=[("", _("Choose a reason")), *ArchiveRecord.Reason.choices],
    )
    archived_on = forms.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)
    authority_reference = forms.CharField(
        label=_("Authority reference"),
        max_length=200,
        help_text=_("The number of the decision, order or letter that allows it."),
    )
    destruction_method = forms.CharField(
        label=_("How was it destroyed?"),
        max_length=200,
        required=False,
        help_text=_("Only for a destroyed item, e.g. burnt, crushed."),
    )
    witnesses = limit_length(
        forms.CharField(
            label=_("Witnesses"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=_("Only for a destroyed item: the names of the people who saw it."),
        )
    )
    incident_reference = forms.CharField(
        label=_("Incident reference"),
        max_length=200,
        required=False,
        help_text=_("Only for a lost or stolen item: the police or incident report number."),
    )
    notes = limit_length(
        forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    )


# --- Custom field definitions (SMS administrators) ------------------------------


class CustomFieldForm(forms.Form):
    key = forms.SlugField(
        label=_("Key"),
        max_length=64,
        help_text=_("A short name without spaces, e.g. seizure_permit. It can't change later."),
    )
    field_type = forms.ChoiceField(label=_("Type"), choices=CustomFieldDefinition.FieldType.choices)
    unit = forms.CharField(
        label=_("Unit"), max_length=32, required=False, help_text=_("e.g. cm, kg. May be empty.")
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    choices_text = limit_length(
        forms.CharField(
            label=_("Choices"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 4}),
        ),
        10_000,
    )
    applies_to = ModelMultipleChoiceField(
        label=_("Applies to"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The types of item that have this field."),
    )
    order = forms.IntegerField(label=_("Order"), min_value=0, initial=0)

    def __init__(self, *args, languages, definition=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages = list(languages)
        self.definition = definition
        # One label per language, in the order of the label fields: value | en | fr | pt.
        label_names = [
            str(_("label in %(language)s") % {"language": name}) for _code, name in self.languages
        ]
        self.fields["choices_text"].help_text = _(
            "Only for choice fields: one choice per line, as value | %(labels)s."
        ) % {"labels": " | ".join(label_names)}
        self.fields["applies_to"].queryset = ItemType.objects.select_related("category")
        self.fields["applies_to"].label_from_instance = lambda obj: (
            f"{obj.category.label()} — {obj.label()}"
        )
        label_fields = {}
        for code, name in self.languages:
            label_fields[f"label_{code}"] = forms.CharField(
                label=_("Label in %(language)s") % {"language": name},
                max_length=150,
                required=code == self.languages[0][0],
            )
        # Labels right after the key, in the order of the languages.
        ordered = {"key": self.fields["key"], **label_fields}
        ordered.update({k: v for k, v in self.fields.items() if k != "key"})
        self.fields = ordered
        if definition is not None:
            # Stored values depend on these two: they never change.
            self.fields["key"].disabled = True
            self.fields["field_type"].disabled = True
            self.initial.update(
                {
                    "key": definition.key,
                    "field_type": definition.field_type,
                    "unit": definition.unit,
                    "required": definition.required,
                    "choices_text": choices_to_text(definition.choices, self.languages),
                    "applies_to": list(definition.applies_to.all()),
                    "order": definition.order,
                    **{f"label_{c}": (definition.labels or {}).get(c, "") for c, _n in languages},
                }
            )

    def clean_choices_text(self):
        try:
            return text_to_choices(self.cleaned_data["choices_text"], self.languages)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def definition_data(self) -> dict:
        data = self.cleaned_data
        return {
            "key": data["key"],
            "labels": {c: data[f"label_{c}"] for c, _n in self.languages if data[f"label_{c}"]},
            "field_type": data["field_type"],
            "unit": data["unit"],
            "required": data["required"],
            "choices": data["choices_text"],
            "applies_to": list(data["applies_to"]),
            "order": data["order"],
        }


def choices_to_text(choices, languages) -> str:
    lines = []
    for choice in choices or []:
        labels = choice.get("labels") or {}
        parts = [choice.get("value", "")] + [labels.get(code, "") for code, _n in languages]
        lines.append(" | ".join(parts).rstrip(" |"))
    return "\n".join(lines)


def text_to_choices(text: str, languages) -> list[dict]:
    choices = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        value = parts[0]
        if not value:
            raise ValueError(
                _("Line %(number)s: write the value first, before the first |.")
                % {"number": number}
            )
        labels = {
            code: parts[i + 1]
            for i, (code, _n) in enumerate(languages)
            if i + 1 < len(parts) and parts[i + 1]
        }
        choices.append({"value": value, "labels": labels or {languages[0][0]: value}})
    return choices


class PhotoAddForm(forms.Form):
    """Photos added to a registered item (its content is checked by stock.services)."""

    photos = MultiplePhotoField(
        label=_("Photos"),
        help_text=_("Take or choose one or more photos (JPEG, PNG or WebP)."),
    )
    caption = forms.CharField(
        label=_("Caption"),
        required=False,
        max_length=200,
        help_text=_("Optional: what the photos show (e.g. “after re-weighing”)."),
    )


class LabelFormatForm(forms.Form):
    """The label stock a PDF of labels is laid out for."""

    label_format = forms.ChoiceField(label=_("Label size"), choices=format_choices)

    def chosen(self) -> str:
        if self.is_valid():
            return self.cleaned_data["label_format"]
        return DEFAULT_FORMAT
