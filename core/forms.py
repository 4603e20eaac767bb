"""What forms share: putting a service's ValidationError back on the form,
and the date input.

Services check every rule and raise ValidationError naming the fields;
forms only parse. ``add_service_errors`` shows each message next to the
field it names, so a person sees what to fix where they typed it.
``QuickSelect``: a drop-down list that renders without a template per option;
``QuickInput``: an <input> written without templates (the date input and
the filter bars' search box are). ``ModelChoiceField`` and
``ModelMultipleChoiceField``: Django's, their options read in one plain query.
"""

from collections.abc import Callable, Mapping

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from core import markup


def add_service_errors(
    form: forms.Form,
    error: ValidationError,
    aliases: Mapping[str, str] | Callable[[str], str] | None = None,
) -> None:
    """Put a service's ValidationError next to the fields it names.

    ``aliases`` maps a service's name for a field to the form's (a mapping,
    e.g. choices -> choices_text, or a function). A message about a field the
    form does not have goes above the form; one about a hidden field (the
    store, the type chosen on a step before) goes there too, prefixed by the
    field's label so it still says what it is about."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    if aliases is None:
        rename = str
    elif callable(aliases):
        rename = aliases
    else:
        rename = lambda name: aliases.get(name, name)  # noqa: E731
    for name, errors in error.error_dict.items():
        name = rename(name)
        field = form.fields.get(name)
        target = name if field is not None and not field.widget.is_hidden else None
        for message in errors:
            if field is not None and target is None:
                message = ValidationError(f"{field.label}: {' '.join(message.messages)}")
            form.add_error(target, message)


class QuickInput:
    """Mixin for an input widget (before Django's class): the same HTML as
    Django's ``input.html`` and ``attrs.html`` templates — type, name, the
    value when there is one, then each attribute (a True one bare, a False
    one left out), all escaped — written in Python. Every filter bar has
    three such inputs, and their two templates each were a tenth of a
    list page's rendering."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        escape = markup.escape
        parts = [f'<input type="{escape(widget["type"])}" name="{escape(widget["name"])}"']
        if widget["value"] is not None:
            parts.append(f' value="{escape(widget["value"])}"')
        for key, attr in widget["attrs"].items():
            if attr is True:
                parts.append(f" {escape(key)}")
            elif attr is not False:
                parts.append(f' {escape(key)}="{escape(attr)}"')
        parts.append(">")
        return mark_safe("".join(parts))  # noqa: S308 - every part escaped


class QuickTextInput(QuickInput, forms.TextInput):
    pass


class DateInput(QuickInput, forms.DateInput):
    """The browser's date picker. Its value is always ISO (YYYY-MM-DD),
    whatever the language: a French date format would leave it empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class QuickSelect(forms.Select):
    """A drop-down list written in Python rather than through a template per
    option: the same HTML as Django's Select (name, attributes, the options
    and the selected ones), at a fraction of the cost on a filter bar that
    offers every store and type on every page. Nested choices (option
    groups) fall back to Django's own rendering."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.choices)
        if any(isinstance(label, (list, tuple)) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        selected = {str(v) for v in self.format_value(value)}
        escape = markup.escape
        parts = [
            format_html('<select name="{}"{}>', name, flatatt(self.build_attrs(self.attrs, attrs)))
        ]
        for option_value, label in choices:
            shown = "" if option_value is None else str(option_value)
            parts.append(
                f'\n  <option value="{escape(shown)}"'
                f"{' selected' if shown in selected else ''}>{escape(label)}</option>\n"
            )
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every part escaped by format_html


class ListedChoices(ModelChoiceIterator):
    """A model choice field's options read in one plain query. Django's
    iterator reads them with ``QuerySet.iterator()``, which on PostgreSQL is
    a server-side cursor — DECLARE, FETCH, CLOSE — for a handful of stores,
    types or roles."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class ModelChoiceField(forms.ModelChoiceField):
    """Django's, its options read in one plain query (``ListedChoices``)."""

    iterator = ListedChoices


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's, its options read in one plain query (``ListedChoices``)."""

    iterator = ListedChoices
