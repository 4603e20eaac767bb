"""Forms of the custody screens (country schema).

As in stock.forms, forms only parse input; the rules (which site may send,
what a dispatch needs, tolerances) are custody.services', whose
ValidationError messages are put back next to the fields they name
(stock.forms.add_service_errors). Weights stay text: the services read a
decimal comma, which many users type.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import ModelChoiceField
from core.text import LINE_MAX_LENGTH, NOTE_MAX_LENGTH, limit_length
from stock import selectors as stock_selectors
from stock.forms import ItemTypeChoiceField, MultiplePhotoField, add_service_errors
from stock.submissions import SubmitOnceMixin

from .models import Discrepancy, StockTakeLine


def _text(
    label, *, required=False, textarea=False, decimal=False, inline=False, help_text="", limit=None
):
    widget = forms.Textarea(attrs={"rows": 2}) if textarea else forms.TextInput()
    if decimal:
        widget.attrs["inputmode"] = "decimal"
    if inline:
        # In a row of a table: no label above it, the placeholder says what it is.
        widget.attrs.update({"placeholder": label, "aria-label": label})
    field = forms.CharField(label=label, required=False, widget=widget, help_text=help_text)
    # Every text has a limit (core.text), the service checks the same one:
    # the model field's max_length where there is one (``limit``), else a note's.
    limit_length(field, limit or (NOTE_MAX_LENGTH if textarea else LINE_MAX_LENGTH))
    # The service says what is missing, in its own words; the star only shows it is needed.
    field.required_mark = required
    return field


class ServiceForm(forms.Form):
    """A form whose checks are a service's: ``service_errors`` puts them in place."""

    aliases: dict[str, str] = {}

    def service_errors(self, error) -> None:
        add_service_errors(self, error, aliases=self.aliases)


class TransferForm(SubmitOnceMixin, ServiceForm):
    destination = ModelChoiceField(label=_("To"), queryset=None, required=False, empty_label="—")
    reason = _text(_("Reason"), required=True, textarea=True)
    authority_reference = _text(
        _("Authority reference"),
        required=True,
        help_text=_("The decision or letter that authorises the move."),
    )
    # Django's own field: its choices could be a whole store's items (never
    # drawn as options: the page lists them itself), read through a cursor.
    items = forms.ModelMultipleChoiceField(label=_("Items"), queryset=None, required=False)
    notes = _text(_("Notes"), textarea=True)
    # Finding the items among many: numbers scanned or typed one per line,
    # a filter, and "all the items the filter shows" confirmed by their count.
    numbers = forms.CharField(
        label=_("Scanned or typed SMS numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("One number per line; a USB scanner adds one line per label."),
    )
    q = forms.CharField(
        label=_("Find"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("SMS number, CITES mark or type"),
                "data-picker-filter": "",
                "autocomplete": "off",
            }
        ),
    )
    item_type = ModelChoiceField(
        label=_("Type"), queryset=None, required=False, empty_label=_("All types")
    )
    # The template draws it as a tick box whose value is the count shown.
    all_matching = forms.IntegerField(required=False, min_value=0)

    def __init__(self, *args, destinations, items, item_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].queryset = destinations
        self.fields["destination"].required_mark = True
        self.fields["items"].queryset = items
        self.fields["destination"].label_from_instance = lambda site: site.name
        self.fields["item_type"].queryset = item_types
        self.fields["item_type"].label_from_instance = lambda t: t.label()
        self.fields["item_type"].widget.attrs["data-picker-type"] = ""
        limit_length(self.fields["numbers"], NOTE_MAX_LENGTH)


class DispatchForm(ServiceForm):
    seal_numbers = _text(_("Seal numbers"), required=True, limit=300)
    courier = _text(_("Courier"), required=True, limit=200)
    vehicle = _text(_("Vehicle"), limit=100)
    dispatching_officer = _text(_("Dispatching officer"), required=True, limit=150)


class CancelForm(ServiceForm):
    reason = _text(_("Reason for cancelling"), required=True, limit=NOTE_MAX_LENGTH)


def split_numbers(text: str) -> list[str]:
    """SMS numbers typed or scanned one per line (or separated by commas or
    spaces), upper-cased, each once, in the order given."""
    return list(dict.fromkeys(n.upper() for n in (text or "").replace(",", " ").split() if n))


class ReceiveForm(ServiceForm):
    """One group of inputs per item still on its way (``lines``): Arrived,
    Missing or Not yet checked; seal intact; weight; note — and "every item
    not marked otherwise arrived as dispatched", confirmed by its count, so
    the receiving officer marks only the exceptions."""

    OUTCOMES = [("", _("Not yet checked")), ("arrived", _("Arrived")), ("absent", _("Missing"))]

    # The template draws it as a tick box whose value is the count shown.
    rest_arrived = forms.IntegerField(required=False, min_value=0)
    numbers = forms.CharField(
        label=_("Scanned or typed SMS numbers: these arrived as dispatched"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("One number per line; a USB scanner adds one line per label."),
    )

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        limit_length(self.fields["numbers"], NOTE_MAX_LENGTH)
        self.lines = [line for line in lines if line.state == line.State.IN_TRANSIT]
        for line in self.lines:
            key = str(line.item_id)
            self.fields[f"outcome_{key}"] = forms.ChoiceField(
                label=_("Outcome"),
                choices=self.OUTCOMES,
                required=False,
                widget=forms.Select(attrs={"aria-label": _("Outcome")}),
            )
            self.fields[f"seal_{key}"] = forms.BooleanField(
                label=_("Seal intact"), required=False, initial=True
            )
            self.fields[f"weight_{key}"] = _text(_("Weight (kg)"), decimal=True, inline=True)
            self.fields[f"note_{key}"] = _text(_("Note"), inline=True, limit=NOTE_MAX_LENGTH)
        # The service names an item's state problem after the item; show it by its outcome.
        self.aliases = {f"item_{line.item_id}": f"outcome_{line.item_id}" for line in self.lines}

    def fields_of(self, line) -> list:
        """The line's bound fields: outcome, seal, weight, note."""
        return [self[f"{name}_{line.item_id}"] for name in ("outcome", "seal", "weight", "note")]

    def clean(self):
        data = super().clean()
        by_number = {line.item.sms_number: line for line in self.lines}
        unknown = [n for n in split_numbers(data.get("numbers")) if n not in by_number]
        if unknown:
            self.add_error(
                "numbers",
                _("Not on their way in this transfer: %(numbers)s")
                % {"numbers": ", ".join(unknown)},
            )
        self.scanned = {
            str(by_number[n].item_id) for n in split_numbers(data.get("numbers")) if n in by_number
        }
        rest = data.get("rest_arrived")
        if rest is not None and rest != len(self.lines):
            self.add_error(
                "rest_arrived",
                _(
                    "The transfer changed since this page was shown: %(count)s items are on "
                    "their way now, not %(confirmed)s. Nothing was saved; check and confirm again."
                )
                % {"count": len(self.lines), "confirmed": rest},
            )
        return data

    def checks(self) -> list:
        from .services import ReceiptCheck

        data = self.cleaned_data
        rest = data.get("rest_arrived") is not None
        checks = []
        for line in self.lines:
            key = str(line.item_id)
            outcome = data[f"outcome_{key}"]
            if not outcome and (rest or key in self.scanned):
                outcome = "arrived"
            if outcome not in ("arrived", "absent"):
                continue
            checks.append(
                ReceiptCheck(
                    item_id=line.item_id,
                    present=outcome == "arrived",
                    seal_intact=data[f"seal_{key}"],
                    weight_kg=data[f"weight_{key}"] or None,
                    note=data[f"note_{key}"],
                    as_dispatched=True,
                )
            )
        return checks


class DiscrepancyResolveForm(ServiceForm):
    resolution = forms.ChoiceField(
        label=_("Decision"), choices=(), required=False, widget=forms.RadioSelect
    )
    weight_kg = _text(_("Weight if found (kg)"), decimal=True)
    note = _text(_("Note"), required=True, textarea=True)

    def __init__(self, *args, discrepancy: Discrepancy, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resolution"].choices = [
            (value, Discrepancy.Resolution(value).label)
            for value in Discrepancy.CHOICES_BY_KIND[discrepancy.kind]
        ]
        self.fields["resolution"].required_mark = True
        if discrepancy.kind != Discrepancy.Kind.MISSING_ITEM:
            del self.fields["weight_kg"]


class ToleranceForm(ServiceForm):
    tolerance = _text(
        _("Weight tolerance on transfers (%)"),
        required=True,
        decimal=True,
        help_text=_(
            "A received weight that differs from the dispatched weight by more than this "
            "raises a discrepancy."
        ),
    )
    aliases = {"transfer_weight_tolerance_percent": "tolerance"}


class StockTakeOpenForm(SubmitOnceMixin, ServiceForm):
    site = ModelChoiceField(label=_("Store"), queryset=None, required=False)
    notes = _text(_("Notes"), limit=NOTE_MAX_LENGTH)

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["site"].empty_label = None
        self.fields["site"].label_from_instance = lambda site: site.name
        self.fields["site"].required_mark = True


class StockTakeCheckForm(ServiceForm):
    """What the counter found for one item (one such form per row of the list)."""

    item = forms.UUIDField(widget=forms.HiddenInput)
    result = forms.ChoiceField(
        label=_("Result"),
        choices=[c for c in StockTakeLine.Result.choices if c[0] != StockTakeLine.Result.UNCHECKED],
        required=False,
        widget=forms.Select(attrs={"aria-label": _("Result")}),
    )
    weight_kg = _text(_("weight (kg)"), decimal=True, inline=True)
    note = _text(_("note"), inline=True, limit=NOTE_MAX_LENGTH)
    # A plain file: stock.services.photo_add checks the image itself.
    photo = forms.FileField(
        label=_("photo"),
        required=False,
        widget=forms.FileInput(
            attrs={"accept": "image/*", "capture": "environment", "aria-label": _("photo")}
        ),
    )


class StockTakeScanForm(ServiceForm):
    """One SMS number, as a USB scanner types it (then Enter) or a person does."""

    number = forms.CharField(
        label=_("Scan or type an SMS number"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "enterkeyhint": "done",
                "placeholder": "XX-2026-000123",
                "autofocus": True,
                "aria-describedby": "scan-help",
            }
        ),
        help_text=_(
            "Each number checks one item as found. A scanner sends Enter itself; "
            "typing, press Enter after each number."
        ),
    )


class StockTakeBulkForm(ServiceForm):
    """The items ticked in the list and the one result they all get."""

    RESULTS = [c for c in StockTakeLine.Result.choices if c[0] != StockTakeLine.Result.UNCHECKED]

    items = forms.MultipleChoiceField(required=False, choices=())
    result = forms.ChoiceField(
        label=_("Record the ticked items as"),
        choices=RESULTS,
        required=False,
        initial=StockTakeLine.Result.FOUND,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any value: the service says which are not on the list.
        self.fields["items"].valid_value = lambda value: True


class StockTakeRestForm(ServiceForm):
    """ "All the rest found": a tick box whose value is the count the page showed."""

    # The template draws it as a tick box whose value is the count shown.
    confirm_rest = forms.IntegerField(required=False, min_value=0)


class StockTakeAddForm(SubmitOnceMixin, ServiceForm):
    """An item found without a record: the few fields a counter fills in on the
    shelf; stock.services.item_register checks them and its messages go next to
    the field they name."""

    item_type = ItemTypeChoiceField(
        queryset=None,
        label=_("Type"),
        empty_label="—",
        error_messages={"required": _("Choose the item type.")},
    )
    weight_kg = _text(_("Weight (kg)"), decimal=True, required=True)
    pieces = _text(_("Pieces (lots only)"))
    bags = _text(_("Bags (lots only)"))
    cites_mark = _text(_("CITES mark, if it has one"), limit=64)
    notes = _text(_("Notes"), limit=NOTE_MAX_LENGTH)
    photos = MultiplePhotoField(label=_("Photos"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "add_%s")
        super().__init__(*args, **kwargs)
        self.fields["item_type"].queryset = stock_selectors.item_types_enabled()
        for name in ("pieces", "bags"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"


class SignOffForm(ServiceForm):
    note = _text(_("Note"), limit=NOTE_MAX_LENGTH)
    # The number of items the page showed would become missing: a tick box
    # whose value is that count (the template draws it), checked again by
    # the service against the count at sign-off.
    confirm_missing = forms.IntegerField(
        label=_("Confirmation"), required=False, min_value=0, widget=forms.HiddenInput
    )


class CheckpointForm(forms.Form):
    checkpoint = forms.CharField(
        label=_("Checkpoint"),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_(
            "Paste a checkpoint as printed at the foot of a document or in the daily e-mail "
            "(it starts with SMS-LEDGER-CHECKPOINT-1), or the content of a checkpoint file."
        ),
        error_messages={"required": _("Paste a checkpoint.")},
    )
