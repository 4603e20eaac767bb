"""Screens of the stock register (country schema).

Views parse input, call one selector or service, and render. Every read goes
through stock.selectors (which apply the user's site scope: an item outside
it is a 404); every write through stock.services.
"""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import display
from core.access import AccessAction, access_exempt, access_shows, logs_access
from core.origin import origin_of
from core.paging import PAGE_SIZE, Keyset
from ledger import selectors as ledger_selectors

from . import catalogue, evidence, labels, listing, selectors, services, submissions, wording
from .field_rules import fields_for_type
from .forms import (
    GROUP_TITLES,
    ArchiveForm,
    CorrectForm,
    CustomFieldForm,
    LabelFormatForm,
    PhotoAddForm,
    RegisterForm,
    RegisterStartForm,
    add_service_errors,
)
from .models import ArchiveRecord, MarkFlag, StockItem
from .templatetags.stock_ui import kg


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
    if isinstance(value, datetime.datetime):
        return display.when(value)
    if isinstance(value, datetime.date):
        return display.day(value)
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
                (_("Registered on"), display.when(item.created_at)),
                (_("Last change"), display.when(item.updated_at)),
            ],
        )
    )
    return sections


def item_history_rows(events: list[dict], *, definitions: dict) -> list[dict]:
    """History events with corrections of one moment grouped together and each
    field named by its label (custom fields in the user's language)."""
    rows: list[dict] = []
    if any(e["kind"] == "change" and e["field"].startswith(wording.CUSTOM_PREFIX) for e in events):
        # A field no longer applying to the item's type is still named by its label.
        definitions = {**wording.custom_definitions(), **definitions}
    for event in events:
        if event["kind"] == "change":
            name = event["field"]
            change = {
                "label": wording.item_field_label(name, definitions),
                "old": wording.value_text(name, event["old"], definitions),
                "new": wording.value_text(name, event["new"], definitions),
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


# Without the permission the page shows no figures, and nothing is logged.
@logs_access(AccessAction.DASHBOARD_VIEW, when_perm="stock.view_stockitem")
@login_required
def dashboard(request):
    """The country's home page: what is in stock, where, of which kind."""
    context = {"totals": None}
    if request.user.has_perm("stock.view_stockitem"):
        context["totals"] = _dashboard_links(selectors.dashboard_totals(user=request.user))
    return render(request, "stock/dashboard.html", context)


def _dashboard_links(totals: dict) -> dict:
    """Each figure's link to the items behind it and its weight as shown,
    prepared once here rather than looked up ~70 times in the template."""
    base = reverse("stock:item_list")
    for name in ("overall", "in_transit", "missing"):
        totals[name]["weight"] = kg(totals[name]["weight_kg"])
    for key, rows, field in (
        ("site", totals["per_site"], "site"),
        ("category", totals["per_category"], "category"),
        ("item_type", totals["per_type"], "item_type"),
    ):
        for row in rows:
            row["href"] = f"{base}?status=in_stock&{field}={int(row[key].pk)}"
            row["weight"] = kg(row["weight_kg"])
            if key != "site":
                row["label"] = row[key].label()
    for category in totals["per_category"]:
        category["types"] = [
            row for row in totals["per_type"] if row["category"].pk == category["category"].pk
        ]
    return totals


# --- Items ------------------------------------------------------------------------

# Keyset paging (core.paging): as fast on page 1,000 as on page 1, no COUNT.
ITEM_PAGES = Keyset(*selectors.ITEM_ORDER, size=PAGE_SIZE)
ARCHIVE_PAGES = Keyset(*selectors.ARCHIVE_ORDER, size=PAGE_SIZE)


STATUS_LABELS = dict(StockItem.Status.choices)


def list_rows(items, known: catalogue.Catalogue | None = None) -> None:
    """What each row of the item list shows, prepared once here (a link, a
    label, a weight and a date per row looked up in the template cost more
    than the query): ``item.url``, ``type_label``, ``weight_shown``,
    ``pieces_shown``, ``status_label``, ``received_shown`` and ``tick_label``
    (the label tick box's name) on each item. A new column adds its own
    attribute here, and its field to stock.listing.LIST_COLUMNS. Each item's
    store and type (with its category) are the cached ones
    (stock.catalogue): the page's query joins nothing."""
    if not items:
        return
    known = known or catalogue.load()
    # One reverse for the page: every item's link differs only by its id.
    marker = "00000000-0000-0000-0000-000000000000"
    detail = reverse("stock:item_detail", args=[marker])
    type_labels = known.type_labels()
    sites, types = known.sites, known.types
    # Translated once for the page, not once per row.
    status_labels = {status: str(label) for status, label in STATUS_LABELS.items()}
    tick_label = _("Label for %(number)s")
    for item in items:
        if item.site_id in sites and item.item_type_id in types:
            item.site = sites[item.site_id]
            item.item_type = types[item.item_type_id]
        item.url = detail.replace(marker, str(item.pk))
        item.type_label = type_labels.get(item.item_type_id) or item.item_type.label()
        # core.display: the one place numbers and dates are written.
        item.weight_shown = display.weight(item.weight_kg)
        item.pieces_shown = display.count(item.pieces)
        item.status_label = status_labels.get(item.status, item.status)
        item.received_shown = display.day(item.received_on)
        item.tick_label = tick_label % {"number": item.sms_number}


@logs_access(AccessAction.ITEM_LIST)
@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def item_list(request):
    filterset = selectors.item_filter(user=request.user, data=request.GET)
    # Sorting, counting, thumbnails and export: stock.listing. Stores and
    # types from the cache (list_rows), not joined to each row.
    sort = listing.sort_of(request.GET)
    page = listing.pager(sort).page(
        listing.with_thumbnails(filterset.qs.select_related(None).only(*listing.LIST_COLUMNS)),
        request.GET,
    )
    list_rows(page.rows, filterset.catalogue)
    listing.attach_thumbnails(page.rows)
    access_shows(
        request,
        filters={
            **filterset.active(),
            **page.asked,
            **({"sort": sort} if sort != listing.DEFAULT_SORT else {}),
        },
    )
    return render(
        request,
        "stock/item_list.html",
        {
            "form": filterset.form,
            "items": page.rows,
            "page": page,
            "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor,
            "filtered": filterset.filtered,
            "result_count": listing.result_count(user=request.user, filterset=filterset),
            "sort": sort,
            "sorts": [(key, label) for key, (label, _order) in listing.SORTS.items()],
            "sort_links": listing.sort_links(request.GET, sort),
            "export_query": listing.export_query(request.GET),
            "label_form": LabelFormatForm(),
            "label_filters": _list_filters(request.GET),
            "labels_limit": selectors.LABELS_LIMIT,
        },
    )


@logs_access(AccessAction.EXPORT, details={"list": "items"})
@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def item_export(request, fmt):
    """Exactly the list the filters select (all its pages, in its order), as
    CSV (streamed) or XLSX; the same scope and filters as the page."""
    filterset = selectors.item_filter(user=request.user, data=request.GET)
    sort = listing.sort_of(request.GET)
    access_shows(request, filters={**filterset.active(), "format": fmt, "sort": sort})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        return FileResponse(
            listing.xlsx_file(filterset.qs, sort=sort),
            as_attachment=True,
            filename=f"items-{stamp}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(
        listing.csv_lines(filterset.qs, sort=sort), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="items-{stamp}.csv"'
    return response


@logs_access(AccessAction.ITEM_VIEW)
@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def item_detail(request, item_id):
    # Read-only when a store of the user's sent it away (stock.scope).
    item, sent_away = selectors.item_read(user=request.user, item_id=item_id)
    access_shows(request, obj=item)
    definitions = selectors.custom_fields_of_item(item=item)
    return render(
        request,
        "stock/item_detail.html",
        {
            "item": item,
            "sent_away": sent_away,
            "sections": item_sections(item),
            "custom_rows": [(d, (item.custom_values or {}).get(d.key)) for d in definitions],
            # Each photo with its file checked against its SHA-256 (and its
            # GPS position for people who may see originals).
            "photos": evidence.photos_for_page(item.photos.all(), user=request.user),
            "originals_allowed": evidence.may_see_original(request.user),
            "photo_form": PhotoAddForm(),
            "may_add_photos": services.may_add_photos(request.user),
            "label_form": LabelFormatForm(),
            "history": item_history_rows(
                selectors.item_history(item=item), definitions={d.key: d for d in definitions}
            ),
            # The chain of custody, oldest first, each entry verified.
            "custody": ledger_selectors.item_timeline(item=item),
        },
    )


@access_exempt("the registration form; a new item is in its history and the custody ledger")
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
                # Once per form: a double click finds the item the first click registered.
                item, created = submissions.create_once(
                    token=form.once_token(),
                    user=request.user,
                    purpose="stock.item_register",
                    create=lambda: services.item_register(
                        actor=request.user,
                        site=site,
                        item_type=item_type,
                        data=form.item_data(),
                        custom_values=form.custom_values(),
                        photos=form.cleaned_data["photos"],
                        cites_mark=form.cleaned_data.get("cites_mark") or None,
                    ),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if not created:
                    messages.info(
                        request,
                        _("This form was already sent: here is the item it registered."),
                    )
                    return redirect("stock:item_detail", item_id=item)
                if item.cites_mark:
                    text = _("Item %(number)s is registered. Its CITES mark is %(mark)s.") % {
                        "number": item.sms_number,
                        "mark": item.cites_mark,
                    }
                else:
                    text = _("Item %(number)s is registered.") % {"number": item.sms_number}
                messages.success(request, text)
                _warn_mark_flag(request, item)
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


@logs_access(AccessAction.ITEM_VIEW)
@login_required
@permission_required("stock.correct_item", raise_exception=True)
@require_http_methods(["GET", "POST"])
def item_correct(request, item_id):
    item = selectors.item_get(user=request.user, item_id=item_id)
    access_shows(request, obj=item)
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
                if isinstance(result, list):
                    item.refresh_from_db()
                    _warn_mark_flag(request, item)
                return redirect("stock:item_detail", item_id=item.pk)
    return render(request, "stock/item_correct.html", {"item": item, "form": form})


def _warn_mark_flag(request, item) -> None:
    """Say after saving what the mark needs (an older mark's weight, a re-mark)."""
    if item.mark_flag:
        messages.warning(
            request,
            _("The mark %(mark)s needs checking: %(why)s. It is listed in Marks to do.")
            % {"mark": item.cites_mark, "why": MarkFlag(item.mark_flag).label},
        )


@logs_access(AccessAction.ITEM_VIEW)
@login_required
@permission_required("stock.archive_item", raise_exception=True)
@require_http_methods(["GET", "POST"])
def item_archive(request, item_id):
    item = selectors.item_get(user=request.user, item_id=item_id)
    access_shows(request, obj=item)
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


@access_exempt("adds photos; each is in the item's history (who, when, SHA-256)")
@login_required
@require_POST
def item_photos_add(request, item_id):
    """Photos added after registration (the form is on the item page); who
    may is the service's rule (services.may_add_photos: PermissionDenied)."""
    item = selectors.item_get(user=request.user, item_id=item_id)
    form = PhotoAddForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            added = services.photos_add(
                actor=request.user,
                item=item,
                uploads=form.cleaned_data["photos"],
                caption=form.cleaned_data["caption"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s photo added to %(number)s.",
                    "%(count)s photos added to %(number)s.",
                    len(added),
                )
                % {"count": len(added), "number": item.sms_number},
            )
            return redirect(reverse("stock:item_detail", args=[item.pk]) + "#photos")
    # The files cannot be shown again: say what was wrong, at the top of the
    # item's page (nothing was added).
    for errors in form.errors.values():
        for text in errors:
            messages.error(request, text)
    return redirect("stock:item_detail", item_id=item.pk)


# --- Labels -----------------------------------------------------------------------

# Query parameters of the item list that are not its filters.
_NOT_FILTERS = {ITEM_PAGES.next_param, ITEM_PAGES.previous_param, "item", "which", "label_format"}


def _list_filters(params) -> list[tuple[str, str]]:
    """The item list's filters in ``params`` (a QueryDict), paging left out."""
    return [
        (key, value)
        for key in params
        if key not in _NOT_FILTERS
        for value in params.getlist(key)
        if value != ""
    ]


def _labels_pdf(items, *, label_format: str, name: str) -> HttpResponse:
    pdf = labels.render_labels(items, label_format=label_format, title=name)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@logs_access(AccessAction.DOCUMENT_VIEW)
@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
@require_GET
def item_label(request, item_id):
    """The item's label, alone (a roll) or on a sheet (its first place)."""
    item = selectors.item_get(user=request.user, item_id=item_id)
    label_format = LabelFormatForm(request.GET).chosen()
    access_shows(request, obj=item, details={"document": "label", "label_format": label_format})
    return _labels_pdf([item], label_format=label_format, name=f"{item.sms_number}-label")


@logs_access(AccessAction.DOCUMENT_VIEW)
@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
@require_GET
def item_labels(request):
    """Labels for the items ticked in the list (``which=ticked``) or for the
    whole filtered list, up to selectors.LABELS_LIMIT."""
    label_format = LabelFormatForm(request.GET).chosen()
    filters = _list_filters(request.GET)
    back = reverse("stock:item_list") + ("?" + urlencode(filters) if filters else "")
    ticked = request.GET.get("which") == "ticked"
    if ticked:
        items = selectors.label_items(user=request.user, item_ids=request.GET.getlist("item"))
        if not items:
            messages.error(request, _("Tick the items whose labels you want, then try again."))
            return redirect(back)
    else:
        filterset = selectors.item_filter(user=request.user, data=request.GET)
        items = list(filterset.qs[: selectors.LABELS_LIMIT + 1])
        if not items:
            messages.error(request, _("No item matches these filters: no label to print."))
            return redirect(back)
    if len(items) > selectors.LABELS_LIMIT:
        messages.error(
            request,
            _(
                "Labels can be printed for at most %(limit)s items at once. "
                "Narrow the list with the filters (e.g. one store or one type)."
            )
            % {"limit": number_format(selectors.LABELS_LIMIT, force_grouping=True)},
        )
        return redirect(back)
    access_shows(
        request,
        details={
            "document": "labels",
            "label_format": label_format,
            "which": "ticked" if ticked else "list",
            "count": len(items),
            "first": items[0].sms_number,
            "last": items[-1].sms_number,
        },
        filters=None if ticked else filterset.active(),
    )
    return _labels_pdf(items, label_format=label_format, name=f"labels-{len(items)}")


def _photo_response(handle, *, content_type: str):
    response = FileResponse(handle, content_type=content_type)
    # Evidence photos stay out of every cache (SecurityHeadersMiddleware says
    # the same for every signed-in page).
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


def _photo_unavailable(request, photo, check):
    """The file no longer matches its recorded SHA-256 (409) or is gone (404):
    say so rather than serve something as the photo."""
    return render(
        request,
        "stock/photo_unavailable.html",
        {"photo": photo, "item": photo.item, "check": check},
        status=409 if check.status == evidence.MISMATCH else 404,
    )


@logs_access(AccessAction.PHOTO_VIEW)
@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def photo_original(request, photo_id):
    """The original file for roles that may see originals (with its EXIF and
    GPS position); for everyone else a re-encoded copy without metadata."""
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    original = evidence.may_see_original(request.user)
    if original:
        check, handle = evidence.photo_open_original(photo)
        if handle is not None and not check.ok:
            handle.close()
            handle = None
        content_type = photo.content_type
    else:
        check, handle = evidence.photo_open_display_copy(photo)
        content_type = "image/jpeg"
    if handle is None:
        return _photo_unavailable(request, photo, check)
    access_shows(request, obj=photo)
    return _photo_response(handle, content_type=content_type)


@access_exempt("a thumbnail: part of the item page, logged as its view")
@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def photo_thumbnail(request, photo_id):
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    # Rebuilt from the original when the file is missing; nothing is served
    # for a photo whose original no longer matches its SHA-256.
    check, handle = evidence.photo_open_thumbnail(photo)
    if handle is None:
        return _photo_unavailable(request, photo, check)
    return _photo_response(handle, content_type="image/jpeg")


# --- Archive ----------------------------------------------------------------------


@logs_access(AccessAction.ARCHIVE_LIST)
@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def archive_list(request):
    filterset = selectors.archive_filter(user=request.user, data=request.GET)
    page = ARCHIVE_PAGES.page(filterset.qs, request.GET)
    access_shows(request, filters={**filterset.active(), **page.asked})
    return render(
        request,
        "stock/archive_list.html",
        {
            "form": filterset.form,
            "records": page.rows,
            "page": page,
            "filtered": filterset.filtered,
        },
    )


# --- Marks to do -----------------------------------------------------------------


def _mark_todo_reasons() -> dict:
    return {
        "needs_mark": _("Needs a CITES mark"),
        "needs_length": _("Cut piece of 1 kg or more: measure its length to decide its mark"),
        **{flag.value: flag.label for flag in MarkFlag},
    }


@logs_access(AccessAction.ITEM_LIST)
@login_required
@permission_required("stock.view_stockitem", raise_exception=True)
def marks_to_do(request):
    """Every item of the user's sites that needs a mark or a re-mark, and why."""
    items = selectors.marks_to_do(user=request.user)
    total = items.count()
    reasons = _mark_todo_reasons()
    rows = [(item, reasons[item.todo]) for item in items[: selectors.MARKS_TO_DO_LIMIT]]
    access_shows(request, details={"marks_to_do": total})
    return render(
        request,
        "stock/marks_to_do.html",
        {"rows": rows, "total": total, "shown": len(rows)},
    )


# --- Custom fields (SMS administrators) ----------------------------------------------


@access_exempt("custom field definitions: the country's configuration, no stock")
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


@access_exempt("custom field definitions: the country's configuration, no stock")
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


@access_exempt("custom field definitions: the country's configuration, no stock")
@login_required
@permission_required("stock.change_customfielddefinition", raise_exception=True)
def custom_field_detail(request, definition_id):
    definition = selectors.custom_field_get(definition_id=definition_id)
    return render(
        request,
        "stock/custom_field_detail.html",
        {
            "definition": definition,
            "changes": [
                (change, wording.definition_changes(change.before, change.after))
                for change in selectors.custom_field_changes(definition=definition)
            ],
        },
    )


@access_exempt("custom field definitions: the country's configuration, no stock")
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
