"""Forms of the custody screens (country schema).

As in stock.forms, forms only parse input; the rules (which site may send,
what a dispatch needs, tolerances) are custody.services', whose
ValidationError messages are put back next to the fields they name
(stock.forms.add_service_errors). Weights stay text: the services read a
decimal comma, which many users type.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

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
    destination = forms.ModelChoiceField(
        label=_("To"), queryset=None, required=False, empty_label="—"
    )
    reason = _text(_("Reason"), required=True, textarea=True)
    authority_reference = _text(
        _("Authority reference"),
        required=True,
        help_text=_("The decision or letter that authorises the move."),
    )
    items = forms.ModelMultipleChoiceField(label=_("Items"), queryset=None, required=False)
    notes = _text(_("Notes"), textarea=True)

    def __init__(self, *args, destinations, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].queryset = destinations
        self.fields["destination"].required_mark = True
        self.fields["items"].queryset = items
        self.fields["destination"].label_from_instance = lambda site: site.name


class DispatchForm(ServiceForm):
    seal_numbers = _text(_("Seal numbers"), required=True, limit=300)
    courier = _text(_("Courier"), required=True, limit=200)
    vehicle = _text(_("Vehicle"), limit=100)
    dispatching_officer = _text(_("Dispatching officer"), required=True, limit=150)


class CancelForm(ServiceForm):
    reason = _text(_("Reason for cancelling"), required=True, limit=NOTE_MAX_LENGTH)


class ReceiveForm(ServiceForm):
    """One group of inputs per item still on its way (``lines``): arrived,
    absent or not yet; seal intact; weight; note."""

    OUTCOMES = [("", _("not yet")), ("arrived", _("arrived")), ("absent", _("absent"))]

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
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
                label=_("seal intact"), required=False, initial=True
            )
            self.fields[f"weight_{key}"] = _text(_("weight (kg)"), decimal=True, inline=True)
            self.fields[f"note_{key}"] = _text(_("note"), inline=True, limit=NOTE_MAX_LENGTH)
        # The service names an item's state problem after the item; show it by its outcome.
        self.aliases = {f"item_{line.item_id}": f"outcome_{line.item_id}" for line in self.lines}

    def fields_of(self, line) -> list:
        """The line's bound fields: outcome, seal, weight, note."""
        return [self[f"{name}_{line.item_id}"] for name in ("outcome", "seal", "weight", "note")]

    def checks(self) -> list:
        from .services import ReceiptCheck

        data = self.cleaned_data
        return [
            ReceiptCheck(
                item_id=line.item_id,
                present=data[f"outcome_{line.item_id}"] == "arrived",
                seal_intact=data[f"seal_{line.item_id}"],
                weight_kg=data[f"weight_{line.item_id}"] or None,
                note=data[f"note_{line.item_id}"],
            )
            for line in self.lines
            if data[f"outcome_{line.item_id}"] in ("arrived", "absent")
        ]


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
    site = forms.ModelChoiceField(label=_("Store"), queryset=None, required=False)
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
