"""Report parameter forms (country schema). Each gives ``params()``: plain JSON
values that reporting.documents.build understands and a ReportRun keeps."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.forms import ModelChoiceField
from core.text import limit_length
from stock.models import ItemCategory, ItemType, StockItem
from stock.scope import sees_all_sites, visible_sites

from .cites import KINDS, resolution
from .documents import GROUPINGS
from .figures import TRANSIT
from .models import REASONS_MAX_LENGTH, PrivateHolding, ReportRun


def _today():
    return timezone.localdate()


class FiltersForm(forms.Form):
    site = forms.ChoiceField(label=_("Site"), required=False)
    category = ModelChoiceField(
        label=_("Category"), queryset=ItemCategory.objects.none(), required=False
    )
    item_type = ModelChoiceField(label=_("Type"), queryset=ItemType.objects.none(), required=False)
    source = forms.ChoiceField(
        label=_("Source"),
        choices=[("", _("All sources")), *StockItem.Source.choices],
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("All my sites"))]
        choices += [(str(s.pk), s.name) for s in visible_sites(user).order_by("name")]
        if sees_all_sites(user):
            choices.append((TRANSIT, _("In transit")))
        self.fields["site"].choices = choices
        self.fields["category"].queryset = ItemCategory.objects.all()
        self.fields["item_type"].queryset = ItemType.objects.select_related("category")

    def filter_params(self) -> dict:
        data = self.cleaned_data
        return {
            "site": data.get("site") or "",
            "category": data["category"].pk if data.get("category") else "",
            "item_type": data["item_type"].pk if data.get("item_type") else "",
            "source": data.get("source") or "",
        }


class SummaryForm(FiltersForm):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label=pgettext_lazy("end of a period", "To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    group_by = forms.MultipleChoiceField(
        label=_("Break down by"),
        choices=list(GROUPINGS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    field_order = ["start", "end", "group_by", "site", "category", "item_type", "source"]

    @classmethod
    def initial_data(cls) -> dict:
        today = _today()
        return {
            "start": today.replace(month=1, day=1).isoformat(),
            "end": today.isoformat(),
            "group_by": ["site", "category"],
        }

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end of the period is before its start."))
        return data

    def params(self) -> dict:
        data = self.cleaned_data
        return {
            "start": data["start"].isoformat(),
            "end": data["end"].isoformat(),
            "group_by": [g for g in GROUPINGS if g in data.get("group_by", [])],
            **self.filter_params(),
        }

    def title(self) -> str:
        return _("Stock summary %(start)s to %(end)s") % {
            "start": self.cleaned_data["start"],
            "end": self.cleaned_data["end"],
        }


class DetailForm(SummaryForm):
    line = forms.CharField(label=_("Figure"), required=False, widget=forms.HiddenInput)

    def params(self) -> dict:
        params = super().params()
        params.pop("group_by")
        params["line"] = self.cleaned_data.get("line") or "closing"
        return params

    def title(self) -> str:
        return _("Detailed report %(start)s to %(end)s") % {
            "start": self.cleaned_data["start"],
            "end": self.cleaned_data["end"],
        }


class YearlyForm(FiltersForm):
    first_year = forms.IntegerField(label=_("First year"), min_value=1950, max_value=2200)
    last_year = forms.IntegerField(label=_("Last year"), min_value=1950, max_value=2200)

    field_order = ["first_year", "last_year", "site", "category", "item_type", "source"]

    @classmethod
    def initial_data(cls) -> dict:
        year = _today().year
        return {"first_year": year - 4, "last_year": year}

    def clean(self):
        data = super().clean()
        first, last = data.get("first_year"), data.get("last_year")
        if first and last and (last < first or last - first > 50):
            self.add_error(
                "last_year", _("Choose a last year after the first, at most 50 years on.")
            )
        return data

    def params(self) -> dict:
        return {
            "first_year": self.cleaned_data["first_year"],
            "last_year": self.cleaned_data["last_year"],
            **self.filter_params(),
        }

    def title(self) -> str:
        return _("Stock year by year %(first)s–%(last)s") % {
            "first": self.cleaned_data["first_year"],
            "last": self.cleaned_data["last_year"],
        }


def _cites_choices() -> list:
    # A callable: the labels are translated for each request, not at import.
    return [(kind, f"{spec['title']} ({resolution(kind)})") for kind, spec in KINDS.items()]


class CitesForm(forms.Form):
    cites_kind = forms.ChoiceField(label=_("Declaration"), choices=_cites_choices)
    year = forms.IntegerField(label=_("Year"), min_value=1950, max_value=2200)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    @classmethod
    def initial_data(cls) -> dict:
        return {"cites_kind": "ivory", "year": _today().year - 1}

    def clean_year(self):
        year = self.cleaned_data["year"]
        if datetime.date(year, 12, 31) > _today() + datetime.timedelta(days=366):
            raise forms.ValidationError(_("Choose a year that has begun."))
        return year

    def params(self) -> dict:
        return {"cites_kind": self.cleaned_data["cites_kind"], "year": self.cleaned_data["year"]}

    def title(self) -> str:
        spec = KINDS[self.cleaned_data["cites_kind"]]
        return f"{spec['title']} {self.cleaned_data['year']}"


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=ReportRun.Format.choices)
    reasons = limit_length(
        forms.CharField(
            label=_("Reasons for significant changes from the previous year"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 4}),
        ),
        REASONS_MAX_LENGTH,
    )


class CitesFileForm(forms.Form):
    """Filing a declaration: the reasons, started from the system's summary."""

    reasons = limit_length(
        forms.CharField(
            label=_("Reasons for significant changes from the previous year"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 8}),
        ),
        REASONS_MAX_LENGTH,
    )


class PrivateHoldingForm(forms.ModelForm):
    class Meta:
        model = PrivateHolding
        fields = [
            "holder",
            "place",
            "declared_on",
            "raw_whole_pieces",
            "raw_whole_kg",
            "raw_cut_pieces",
            "raw_cut_kg",
            "worked_pieces",
            "worked_kg",
            "documents",
            "ended_on",
        ]
        widgets = {
            "declared_on": forms.DateInput(attrs={"type": "date"}),
            "ended_on": forms.DateInput(attrs={"type": "date"}),
            "documents": forms.Textarea(attrs={"rows": 3}),
        }


FORMS = {"summary": SummaryForm, "yearly": YearlyForm, "detail": DetailForm, "cites": CitesForm}
