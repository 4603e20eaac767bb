"""Form fields and widgets of the stock screens and filter bars (no
database reads of their own, so that forms and filters can both use them)."""

from core.forms import DateInput, ModelChoiceField

__all__ = ["DateInput", "ItemTypeChoiceField", "SiteChoiceField"]


class ItemTypeChoiceField(ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.category.label()} — {obj.label()}"


class SiteChoiceField(ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name
