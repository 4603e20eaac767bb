"""Form fields and widgets of the stock screens and filter bars (no
database reads of their own, so that forms and filters can both use them)."""

from django import forms


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ItemTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.category.label()} — {obj.label()}"


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name
