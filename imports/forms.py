"""Forms of the register import: the upload and the mapping step."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .columns import IGNORE_TARGET, NOTES_TARGET


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Register spreadsheet (XLSX)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
    photos = forms.FileField(
        label=_("Photos (one ZIP file, optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
    sheet = forms.CharField(
        label=_("Sheet"),
        required=False,
        max_length=100,
        help_text=_("Leave empty for the first sheet."),
    )


class MappingForm(forms.Form):
    """One choice per header of the file, one per store name SMS did not know."""

    def __init__(self, *args, headers, columns, matched, unknown_stores, stores, sites, **kwargs):
        super().__init__(*args, **kwargs)
        field_choices = [
            (NOTES_TARGET, _("— keep in the notes —")),
            (IGNORE_TARGET, _("— leave out —")),
            *[(c.key, c.header) for c in columns],
        ]
        self.header_fields = []
        for number, header in enumerate(headers):
            if not header:
                continue
            name = f"column_{number}"
            self.fields[name] = forms.ChoiceField(
                label=header, choices=field_choices, initial=matched.get(header, NOTES_TARGET)
            )
            self.header_fields.append((name, header))
        site_choices = [("", _("— choose the store —")), *[(s.pk, str(s)) for s in sites]]
        self.store_fields = []
        for number, (name, count) in enumerate(sorted(unknown_stores.items())):
            field_name = f"store_{number}"
            self.fields[field_name] = forms.ChoiceField(
                label=name,
                choices=site_choices,
                required=False,
                initial=stores.get(name, ""),
                help_text=_("%(count)s rows") % {"count": count},
            )
            self.store_fields.append((field_name, name))

    def answers(self) -> tuple[dict, dict]:
        columns = {header: self.cleaned_data[name] for name, header in self.header_fields}
        stores = {store: self.cleaned_data[name] for name, store in self.store_fields}
        return columns, stores

    def header_rows(self):
        return [self[name] for name, _header in self.header_fields]

    def store_rows(self):
        return [self[name] for name, _store in self.store_fields]
