"""Screens of the stock register (country schema).

Views parse input, call one selector or service, and render. Every read goes
through stock.selectors (which apply the user's site scope: an item outside
it is a 404); every write through stock.services.
"""

import mimetypes
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit.models import AccessEvent
from audit.services import access_record, filters_for_log, origin_of
from custody import selectors as custody_selectors

from . import selectors, services
from .field_rules import fields_for_type
from .forms import (
    GROUP_TITLES,
    ArchiveFilterForm,
    ArchiveForm,
    CorrectForm,
    CustomFieldForm,
    ItemFilterForm,
    RegisterForm,
    RegisterStartForm,
    add_service_errors,
)
from .models import ArchiveRecord, StockItem

PAGE_SIZE = 50


def _country_languages(request) -> list[tuple[str, str]]:
    """The languages labels are written in: the deployment's, then the country's own."""
    languages = list(settings.LANGUAGES)
    known = {code for code, _name in languages}
    for code in getattr(request.tenant, "languages", None) or []:
        if code not in known:
            languages.append((code, code))
            known.add(code)
    return languages


# --- Presentation of one item ----------------------------------------------------


def _display(item, name):
    field = StockItem._meta.get_field(name)
    value = getattr(item, name)
    if field.choices and value not in (None, ""):
        return getattr(item, f"get_{name}_display")()
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return value


def item_sections(item) -> list[tuple[str, list[tuple[str, object]]]]:
    """[(title, [(label, value)])]: the fields that apply to the item's type,
    plus any other field that has a value (e.g. after a change of type)."""
    groups = fields_for_type(item.item_type)
    shown = {name for names in groups.values() for name in names}
    extra = [
        name
        for name in services.ITEM_FIELDS
        if name not in shown
        and getattr(item, name) not in (None, "", False)
        and not (name == "pieces" and not item.item_type.is_lot)
    ]
    if extra:
        groups["description"] = [*groups["description"], *extra]
    sections = []
    for key, names in groups.items():
        rows = [
            (capfirst(StockItem._meta.get_field(name).verbose_name), _display(item, name))
            for name in names
        ]
        if key in ("dna", "notes") and all(v in (None, "") for _label, v in rows):
            continue  # rarely filled in: no empty box
        sections.append((GROUP_TITLES[key], rows))
    sections.append(
        (
            _("Record"),
            [
                (_("SMS number"), item.sms_number),
                (_("Registered by"), item.created_by.display_name),
                (_("Registered on"), item.created_at),
                (_("Last change"), item.updated_at),
            ],
        )
    )
    return sections


def _field_label(name: str, definitions: dict) -> str:
    if name.startswith("custom_values."):
        key = name.split(".", 1)[1]
        definition = definitions.get(key)
        return definition.label() if definition else key
    try:
        return capfirst(StockItem._meta.get_field(name).verbose_name)
    except Exception:  # a field since renamed: its stored name is still meaningful
        return name


def item_history_rows(events: list[dict], *, definitions: dict) -> list[dict]:
    """History events with corrections of one moment grouped together and each
    field named by its label (custom fields in the user's language)."""
    rows: list[dict] = []
    for event in events:
        if event["kind"] == "change":
            change = {
                "label": _field_label(event["field"], definitions),
                "old": event["old"],
                "new": event["new"],
            }
            last = rows[-1] if rows else None
            if (
                last
                and last["kind"] == "change"
                and last["by"] == event["by"]
                and last["reason"] == event["reason"]
                and abs((last["at"] - event["at"]).total_seconds()) < 2
            ):
                last["changes"].append(change)
                continue
            rows.append({**event, "changes": [change]})
        else:
            rows.append(event)
    return rows


# --- Dashboard ------------------------------------------------------------------


@login_required
def dashboard(request):
    """The country's home page: what is in stock, where, of which kind."""
    context = {"totals": None}
    if request.user.has_perm("stock.view_stockitem"):
        context["totals"] = selectors.dashboard_totals(user=request.user)
        access_record(request=request, action=AccessEvent.Action.DASHBOARD_VIEW)
    return render(request, "stock/dashboard.html", context)


# --- Items ------------------------------------------------------------------------

# Newest first; the pair is unique (sms_number is), so the list pages by
# keyset: each page starts after the last row of the one before, with no
# COUNT and no OFFSET, as fast on page 1,000 as on page 1.
ORDER = ("received_on", "sms_number")


def _cursor(item) -> str:
    return f"{item.received_on.isoformat()}~{item.sms_number}"


def _parse_cursor(value: str | None):
    if not value or "~" not in value:
        return None
    day, number = value.split("~", 1)
    try:
        return date.fromisoformat(day), number
    except ValueError:
        return None


def _keyset_page(queryset, *, after=None, before=None, size=PAGE_SIZE):
    """(rows, previous cursor or None, next cursor or None) for one page."""
    if before:
        day, number = before
        rows = list(
            queryset.filter(
                Q(received_on__gt=day) | Q(received_on=day, sms_number__gt=number)
            ).order_by(*ORDER)[: size + 1]
        )
        has_previous = len(rows) > size
        rows = rows[:size][::-1]
        has_next = True
    else:
        queryset = queryset.order_by(*(f"-{name}" for name in ORDER))
        if after:
            day, number = after
            queryset = queryset.filter(
                Q(received_on__lt=day) | Q(received_on=day, sms_number__lt=number)
            )
        rows = list(queryset[: size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
        has_previous = after is not None
    previous_cursor = _cursor(rows[0]) if rows and has_previous else None
    next_cursor = _cursor(rows[-1]) if rows and has_next else None
    return rows, previous_cursor, next_cursor


@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def item_list(request):
    form = ItemFilterForm(request.GET or None, user=request.user)
    filters = form.filters() if form.is_bound else {}
    queryset = selectors.item_list(user=request.user, filters=filters)
    rows, previous_cursor, next_cursor = _keyset_page(
        queryset,
        after=_parse_cursor(request.GET.get("after")),
        before=_parse_cursor(request.GET.get("before")),
    )
    access_record(
        request=request,
        action=AccessEvent.Action.ITEM_LIST,
        details=filters_for_log(
            {**filters, "after": request.GET.get("after"), "before": request.GET.get("before")}
        ),
    )
    return render(
        request,
        "stock/item_list.html",
        {
            "form": form,
            "items": rows,
            "previous_cursor": previous_cursor,
            "next_cursor": next_cursor,
            "is_first_page": not (request.GET.get("after") or request.GET.get("before")),
            "filtered": bool(filters),
        },
    )


@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def item_detail(request, item_id):
    item = selectors.item_get(user=request.user, item_id=item_id)
    access_record(request=request, action=AccessEvent.Action.ITEM_VIEW, obj=item)
    definitions = selectors.custom_fields_of_item(item=item)
    return render(
        request,
        "stock/item_detail.html",
        {
            "item": item,
            "sections": item_sections(item),
            "custom_rows": [(d, (item.custom_values or {}).get(d.key)) for d in definitions],
            "photos": list(item.photos.all()),
            "history": item_history_rows(
                selectors.item_history(item=item), definitions={d.key: d for d in definitions}
            ),
            # The chain of custody, oldest first, each entry verified.
            "custody": custody_selectors.item_timeline(item=item),
        },
    )


@login_required
@permission_required("stock.register_item", raise_exception=True)
@require_http_methods(["GET", "POST"])
def item_register(request):
    """Step 1 (no type yet): choose the store and the type. Step 2: the form of
    that type. Both steps work without JavaScript; step 2's URL keeps the choice."""
    source = request.POST if request.method == "POST" else request.GET
    chosen = any(source.get(name) for name in ("site", "item_type"))
    start = RegisterStartForm(source if chosen else None, user=request.user)
    if not chosen:
        sites = start.fields["site"].queryset
        if len(sites[:2]) == 1:
            start.initial["site"] = sites[0]
    if not start.is_bound or not start.is_valid():
        return render(request, "stock/register_start.html", {"form": start})

    site = start.cleaned_data["site"]
    item_type = start.cleaned_data["item_type"]
    definitions = selectors.custom_fields_for_type(item_type=item_type)
    form_kwargs = {"user": request.user, "item_type": item_type, "definitions": definitions}
    photos_to_choose_again = False
    if request.method == "POST":
        form = RegisterForm(request.POST, request.FILES, **form_kwargs)
        if form.is_valid():
            try:
                item = services.item_register(
                    actor=request.user,
                    site=site,
                    item_type=item_type,
                    data=form.item_data(),
                    custom_values=form.custom_values(),
                    photos=form.cleaned_data["photos"],
                    cites_mark=form.cleaned_data.get("cites_mark") or None,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if item.cites_mark:
                    text = _("Item %(number)s is registered. Its CITES mark is %(mark)s.") % {
                        "number": item.sms_number,
                        "mark": item.cites_mark,
                    }
                else:
                    text = _("Item %(number)s is registered.") % {"number": item.sms_number}
                messages.success(request, text)
                return redirect("stock:item_detail", item_id=item.pk)
        photos_to_choose_again = bool(request.FILES.getlist("photos"))
    else:
        form = RegisterForm(initial={"site": site, "item_type": item_type}, **form_kwargs)
    return render(
        request,
        "stock/register_form.html",
        {
            "form": form,
            "site": site,
            "item_type": item_type,
            "photos_to_choose_again": photos_to_choose_again,
            "change_url": reverse("stock:item_register") + f"?step=1&site={site.pk}",
        },
    )


@login_required
@permission_required("stock.correct_item", raise_exception=True)
@require_http_methods(["GET", "POST"])
def item_correct(request, item_id):
    item = selectors.item_get(user=request.user, item_id=item_id)
    definitions = selectors.custom_fields_for_type(item_type=item.item_type)
    form = CorrectForm(request.POST or None, item=item, definitions=definitions)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            form.add_error(None, _("Nothing was changed. Change a value, or go back."))
        else:
            try:
                result = services.correction_submit(
                    actor=request.user,
                    item=item,
                    changes=changes,
                    reason=form.cleaned_data["reason"],
                    # A person asks for a correction: it waits for an
                    # administrator when the country wants corrections approved.
                    approval=services.Approval.COUNTRY_RULE,
                    origin=origin_of(request),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if isinstance(result, list):
                    text = _("The correction of %(number)s is saved in its history.")
                else:
                    text = _(
                        "The correction of %(number)s is sent to an administrator. "
                        "It applies once approved."
                    )
                messages.success(request, text % {"number": item.sms_number})
                return redirect("stock:item_detail", item_id=item.pk)
    return render(request, "stock/item_correct.html", {"item": item, "form": form})


@login_required
@permission_required("stock.archive_item", raise_exception=True)
@require_http_methods(["GET", "POST"])
def item_archive(request, item_id):
    item = selectors.item_get(user=request.user, item_id=item_id)
    if item.status == StockItem.Status.ARCHIVED:
        messages.info(request, _("This item is already in the archive."))
        return redirect("stock:item_detail", item_id=item.pk)
    form = ArchiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.item_archive(actor=request.user, item=item, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Item %(number)s is now in the archive.") % {"number": item.sms_number},
            )
            return redirect("stock:item_detail", item_id=item.pk)
    return render(
        request,
        "stock/item_archive.html",
        {"item": item, "form": form, "destroyed": ArchiveRecord.Reason.DESTROYED},
    )


def _photo_response(photo, file_field, *, content_type: str):
    response = FileResponse(file_field.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def photo_original(request, photo_id):
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    # Originals only: thumbnails are part of the item page, logged as its view.
    access_record(request=request, action=AccessEvent.Action.PHOTO_VIEW, obj=photo)
    return _photo_response(photo, photo.file, content_type=photo.content_type)


@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def photo_thumbnail(request, photo_id):
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    if not photo.thumbnail:
        raise Http404
    content_type = mimetypes.guess_type(photo.thumbnail.name)[0] or "image/jpeg"
    return _photo_response(photo, photo.thumbnail, content_type=content_type)


# --- Archive ----------------------------------------------------------------------


@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def archive_list(request):
    form = ArchiveFilterForm(request.GET or None, user=request.user)
    filters = form.filters() if form.is_bound else {}
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    # The archive grows slowly; "is there a next page" needs one extra row, never a COUNT.
    start = (page - 1) * PAGE_SIZE
    rows = list(
        selectors.archive_list(user=request.user, filters=filters)[start : start + PAGE_SIZE + 1]
    )
    access_record(
        request=request,
        action=AccessEvent.Action.ARCHIVE_LIST,
        details=filters_for_log({**filters, "page": page if page > 1 else None}),
    )
    return render(
        request,
        "stock/archive_list.html",
        {
            "form": form,
            "records": rows[:PAGE_SIZE],
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "filtered": bool(filters),
        },
    )


# --- Custom fields (SMS administrators) ----------------------------------------------


@login_required
@permission_required("stock.change_customfielddefinition", raise_exception=True)
def custom_field_list(request):
    return render(
        request,
        "stock/custom_field_list.html",
        {
            "definitions": selectors.custom_field_list(),
        },
    )


@login_required
@permission_required("stock.change_customfielddefinition", raise_exception=True)
@require_http_methods(["GET", "POST"])
def custom_field_edit(request, definition_id=None):
    definition = None
    if definition_id is not None:
        definition = selectors.custom_field_get(definition_id=definition_id)
    form = CustomFieldForm(
        request.POST or None, languages=_country_languages(request), definition=definition
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.custom_field_save(
                actor=request.user, definition=definition, data=form.definition_data()
            )
        except ValidationError as error:
            add_service_errors(
                form,
                error,
                aliases={"choices": "choices_text", "labels": f"label_{form.languages[0][0]}"},
            )
        else:
            messages.success(
                request, _("The field “%(label)s” is saved.") % {"label": saved.label()}
            )
            return redirect("stock:custom_field_detail", definition_id=saved.pk)
    return render(request, "stock/custom_field_form.html", {"form": form, "definition": definition})


@login_required
@permission_required("stock.change_customfielddefinition", raise_exception=True)
def custom_field_detail(request, definition_id):
    definition = selectors.custom_field_get(definition_id=definition_id)
    return render(
        request,
        "stock/custom_field_detail.html",
        {
            "definition": definition,
            "changes": selectors.custom_field_changes(definition=definition),
        },
    )


@login_required
@permission_required("stock.change_customfielddefinition", raise_exception=True)
@require_http_methods(["POST"])
def custom_field_deactivate(request, definition_id):
    definition = selectors.custom_field_get(definition_id=definition_id)
    try:
        services.custom_field_deactivate(actor=request.user, definition=definition)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The field “%(label)s” is deactivated. Values already recorded stay visible.")
            % {"label": definition.label()},
        )
    return redirect("stock:custom_field_detail", definition_id=definition.pk)
