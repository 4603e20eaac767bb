"""Screens of transfers, discrepancies, stock-takes and the ledger check
(country schema). Views parse input, call one selector or service, render;
objects outside the user's scope are 404 (the selectors raise it)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import display
from core.access import AccessAction, access_exempt, access_shows, logs_access
from core.paging import PAGE_SIZE, Keyset
from ledger.checkpoints import Checkpoint
from stock import labels as stock_labels
from stock import selectors as stock_selectors
from stock.forms import LabelFormatForm
from stock.models import StockItem
from stock.submissions import TOKEN_FIELD, create_once, spent

from . import documents, selectors, services
from .forms import (
    CancelForm,
    CheckpointForm,
    DiscrepancyResolveForm,
    DispatchForm,
    ReceiveForm,
    SignOffForm,
    StockTakeAddForm,
    StockTakeBulkForm,
    StockTakeCheckForm,
    StockTakeOpenForm,
    StockTakeRestForm,
    StockTakeScanForm,
    ToleranceForm,
    TransferForm,
    split_numbers,
)
from .models import StockTakeLine

VIEW_PERM = "stock.view_stockitem"
# Newest first, by keyset (core.paging).
TRANSFER_PAGES = Keyset("-created_at", "-id", size=PAGE_SIZE)
STOCKTAKE_PAGES = Keyset("-opened_at", "-id", size=PAGE_SIZE)
# A stock-take's lines, in SMS-number order (their ids follow it).
STOCKTAKE_LINE_PAGES = Keyset("id", size=PAGE_SIZE)


def _once(request, purpose: str, data: dict, create):
    """Run ``create(data)`` once per form token (stock.submissions): a second
    post of the same form gives (primary key of the first result, False)."""
    data = dict(data)
    token = data.pop(TOKEN_FIELD, None)
    return create_once(token=token, user=request.user, purpose=purpose, create=lambda: create(data))


# Why the POST-only views write no access-log row of their own.
WRITE_ONLY = (
    "a write (POST only), recorded in the custody ledger; "
    "a refused form shows again the page just opened (and logged)"
)


def _submitted(form, call) -> bool:
    """Run the service ``call`` if ``form`` is valid; its ValidationError goes
    next to the fields it names. True when the service succeeded."""
    if not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except ValidationError as exc:
        form.service_errors(exc)
        return False
    return True


# --- Transfers ---------------------------------------------------------------------


@logs_access(AccessAction.TRANSFER_LIST)
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def transfer_list(request):
    filterset = selectors.transfer_filter(user=request.user, data=request.GET)
    page = TRANSFER_PAGES.page(filterset.qs, request.GET)
    return render(
        request,
        "custody/transfer_list.html",
        {"form": filterset.form, "transfers": page.rows, "page": page},
    )


# The items of the chosen store, to pick from.
@logs_access(AccessAction.ITEM_LIST)
@login_required
@permission_required("custody.dispatch_transfer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def transfer_new(request):
    """Choose the sending site first (the page reloads with its items), then
    the destination, the items, the reason and the authority reference.

    Items are found among many by scanning or typing their numbers, by a
    filter (in the page with JavaScript; by the "Filter" button without),
    and by "all the items the filter shows", confirmed by their count."""
    source = request.POST if request.method == "POST" else request.GET
    origins = selectors.sites_for_dispatch(user=request.user)
    origin = selectors.site_choice(origins, source.get("origin"))
    if origin is None and len(origins[:2]) == 1:
        origin = origins[0]
    destinations = selectors.destinations()
    if origin is not None:
        destinations = destinations.exclude(pk=origin.pk)
    items = (
        selectors.items_for_transfer(user=request.user, site=origin)
        if origin
        else StockItem.objects.none()
    )
    if request.method == "POST":
        earlier = spent(request.POST, user=request.user, purpose="custody.transfer_create")
        if earlier:  # a double click: the transfer the first one prepared
            return redirect("custody:transfer_detail", earlier)
    filtering = request.POST.get("action") == "filter"
    form = TransferForm(
        request.POST if request.method == "POST" and origin is not None else None,
        destinations=destinations,
        items=items,
        item_types=stock_selectors.item_types_enabled(),
    )
    created = []
    all_items = list(items)
    shown_items = all_items
    chosen = set(source.getlist("items"))
    if form.is_bound and form.is_valid():
        shown_items = _picker_filter(
            all_items, form.cleaned_data.get("q"), form.cleaned_data.get("item_type")
        )
        chosen |= _picked(request, form, origin, shown_items)

    def create(data):
        data = {
            k: v for k, v in data.items() if k not in ("numbers", "q", "item_type", "all_matching")
        }
        data["items"] = [item for item in all_items if str(item.pk) in chosen]
        transfer, new = _once(
            request,
            "custody.transfer_create",
            data,
            lambda data: services.transfer_create(actor=request.user, origin=origin, **data),
        )
        if not new:  # a double click: the transfer the first one prepared
            transfer = selectors.transfer_get(user=request.user, transfer_id=transfer)
        created.append(transfer)

    if form.is_bound and not filtering and not form.errors and _submitted(form, create):
        messages.success(
            request,
            _("Transfer %(reference)s prepared. Check the items, then dispatch it.")
            % {"reference": created[0].reference},
        )
        return redirect("custody:transfer_detail", created[0].pk)
    shown_ids = {str(item.pk) for item in shown_items}
    return render(
        request,
        "custody/transfer_new.html",
        {
            "origins": origins,
            "origin": origin,
            "form": form,
            "items": shown_items,
            "item_count": len(all_items),
            "chosen": chosen,
            # Chosen before the filter hid them: kept in the form.
            "chosen_elsewhere": sorted(chosen - shown_ids),
            "filtered": len(shown_items) != len(all_items),
        },
    )


def _picker_filter(items: list, q: str, item_type) -> list:
    """The items the picker's filter shows: a piece of the SMS number, mark or
    type's name (``q``), of one type."""
    q = " ".join((q or "").split()).upper()
    return [
        item
        for item in items
        if (item_type is None or item.item_type_id == item_type.pk)
        and (
            not q
            or q in item.sms_number.upper()
            or q in (item.cites_mark or "").upper()
            or q in item.item_type.label().upper()
        )
    ]


def _picked(request, form, origin, shown_items) -> set:
    """The items the form adds to the ticked ones: its scanned numbers and,
    when confirmed with their count, all the items the filter shows. A number
    that can't be sent, or a count that is no longer right, is an error next
    to its field."""
    picked = set()
    numbers = split_numbers(form.cleaned_data.get("numbers"))
    found, unknown = selectors.items_for_transfer_numbers(
        user=request.user, site=origin, numbers=numbers
    )
    picked |= {str(item.pk) for item in found.values()}
    if unknown:
        form.add_error(
            "numbers",
            _("Not in stock at %(site)s, or already in a transfer: %(numbers)s")
            % {"site": origin.name, "numbers": ", ".join(unknown)},
        )
    confirmed = form.cleaned_data.get("all_matching")
    if confirmed is not None:
        if confirmed != len(shown_items):
            form.add_error(
                "all_matching",
                _(
                    "The list changed since this page was shown: the filter now shows "
                    "%(count)s items, not %(confirmed)s. Nothing was saved; confirm again."
                )
                % {"count": len(shown_items), "confirmed": confirmed},
            )
        else:
            picked |= {str(item.pk) for item in shown_items}
    return picked


def _transfer_page(request, transfer, **forms):
    can = selectors.transfer_actions(user=request.user, transfer=transfer)
    lines = selectors.transfer_lines(transfer=transfer)
    discrepancies = selectors.transfer_discrepancies(transfer=transfer)
    forms.setdefault("dispatch_form", DispatchForm() if can["dispatch"] else None)
    forms.setdefault("cancel_form", CancelForm() if can["cancel"] else None)
    forms.setdefault("receive_form", ReceiveForm(lines=lines) if can["receive"] else None)
    if forms["receive_form"] is not None:
        receive_fields = {
            ln.item_id: forms["receive_form"].fields_of(ln) for ln in forms["receive_form"].lines
        }
        for line in lines:
            line.receive_fields = receive_fields.get(line.item_id, [])
    return render(
        request,
        "custody/transfer_detail.html",
        {
            "transfer": transfer,
            "lines": lines,
            "discrepancies": discrepancies,
            "receipts": selectors.transfer_receipts(lines),
            # The receipt form, while items are still on their way.
            "receiving": bool(forms["receive_form"] is not None and forms["receive_form"].lines),
            # The lines link to the items the user may open (a sender's
            # items after receipt included: stock.scope).
            "readable": stock_selectors.readable_item_ids(
                user=request.user, item_ids=[ln.item_id for ln in lines]
            ),
            "can": can,
            **forms,
        },
    )


@logs_access(AccessAction.TRANSFER_VIEW)
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def transfer_detail(request, transfer_id):
    transfer = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
    access_shows(request, obj=transfer, site=transfer.origin_id)
    return _transfer_page(request, transfer)


@access_exempt(WRITE_ONLY)
@login_required
@permission_required("custody.dispatch_transfer", raise_exception=True)
@require_POST
def transfer_dispatch(request, transfer_id):
    transfer = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
    form = DispatchForm(request.POST)

    def dispatch(data):
        services.transfer_dispatch(actor=request.user, transfer=transfer, **data)

    if not _submitted(form, dispatch):
        return _transfer_page(request, transfer, dispatch_form=form)
    messages.success(request, _("Dispatched. Print the manifest for the courier."))
    return redirect("custody:transfer_detail", transfer.pk)


@access_exempt(WRITE_ONLY)
@login_required
@permission_required("custody.dispatch_transfer", raise_exception=True)
@require_POST
def transfer_cancel(request, transfer_id):
    transfer = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
    form = CancelForm(request.POST)

    def cancel(data):
        services.transfer_cancel(actor=request.user, transfer=transfer, reason=data["reason"])

    if not _submitted(form, cancel):
        return _transfer_page(request, transfer, cancel_form=form)
    messages.success(request, _("The transfer is cancelled; its items are free again."))
    return redirect("custody:transfer_detail", transfer.pk)


@access_exempt(WRITE_ONLY)
@login_required
@permission_required("custody.receive_transfer", raise_exception=True)
@require_POST
def transfer_receive(request, transfer_id):
    """One row per item still on its way: "arrived", "absent" or "not yet"."""
    transfer = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
    form = ReceiveForm(request.POST, lines=selectors.transfer_lines(transfer=transfer))

    def receive(data):
        services.transfer_receive(actor=request.user, transfer=transfer, checks=form.checks())

    if not _submitted(form, receive):
        return _transfer_page(request, transfer, receive_form=form)
    messages.success(request, _("Receipt recorded."))
    return redirect("custody:transfer_detail", transfer.pk)


# The manifest and the receipt: the items with their photos.
@logs_access(AccessAction.DOCUMENT_VIEW)
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def transfer_pdf(request, transfer_id, kind):
    if kind not in (documents.MANIFEST, documents.RECEIPT):
        raise Http404
    transfer = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
    access_shows(request, obj=transfer, site=transfer.origin_id, details={"document": kind})
    pdf = documents.render_transfer_pdf(
        country=request.tenant,
        transfer=transfer,
        lines=selectors.transfer_lines(transfer=transfer),
        kind=kind,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{transfer.reference}-{kind}.pdf"'
    return response


# --- Discrepancies -----------------------------------------------------------------------


@logs_access(AccessAction.DISCREPANCY_LIST)
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def discrepancy_list(request):
    settings_row = services.custody_settings()
    form = ToleranceForm(
        request.POST if request.method == "POST" else None,
        initial={"tolerance": settings_row.transfer_weight_tolerance_percent},
    )
    if request.method == "POST":
        # The country's tolerance, set by an administrator on this page.
        def save(data):
            services.settings_update(
                actor=request.user, transfer_weight_tolerance_percent=data["tolerance"]
            )

        if _submitted(form, save):
            messages.success(request, _("Tolerance saved."))
            return redirect("custody:discrepancy_list")
    show_all = request.GET.get("all") == "1"
    discrepancies = list(
        selectors.discrepancy_list(user=request.user, open_only=not show_all)[:200]
    )
    return render(
        request,
        "custody/discrepancy_list.html",
        {
            "discrepancies": discrepancies,
            "readable": stock_selectors.readable_item_ids(
                user=request.user, item_ids=[d.item_id for d in discrepancies]
            ),
            "show_all": show_all,
            "settings": settings_row,
            "form": form,
        },
    )


@logs_access(AccessAction.DISCREPANCY_VIEW)
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def discrepancy_resolve(request, discrepancy_id):
    discrepancy = selectors.discrepancy_get(user=request.user, discrepancy_id=discrepancy_id)
    access_shows(request, obj=discrepancy)
    form = DiscrepancyResolveForm(
        request.POST if request.method == "POST" else None, discrepancy=discrepancy
    )
    if request.method == "POST":
        if not request.user.has_perm("custody.resolve_discrepancy"):
            raise Http404

        def resolve(data):
            services.discrepancy_resolve(
                actor=request.user,
                discrepancy=discrepancy,
                resolution=data["resolution"],
                note=data["note"],
                weight_kg=data.get("weight_kg") or None,
            )

        if _submitted(form, resolve):
            messages.success(request, _("Discrepancy resolved."))
            return redirect("custody:transfer_detail", discrepancy.transfer_id)
    readable = stock_selectors.readable_item_ids(user=request.user, item_ids=[discrepancy.item_id])
    return render(
        request,
        "custody/discrepancy_resolve.html",
        {"d": discrepancy, "form": form, "readable": bool(readable)},
    )


# --- Stock-takes ---------------------------------------------------------------------------


@logs_access(AccessAction.STOCKTAKE_LIST)
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def stocktake_list(request):
    sites = selectors.sites_for_stocktake(user=request.user)
    form = StockTakeOpenForm(request.POST if request.method == "POST" else None, sites=sites)
    if request.method == "POST":
        if not request.user.has_perm("custody.run_stocktake"):
            raise Http404
        earlier = spent(request.POST, user=request.user, purpose="custody.stocktake_open")
        if earlier:  # a double click: the stock-take the first one opened
            return redirect("custody:stocktake_detail", earlier)
        opened = []

        def open_(data):
            stocktake, _new = _once(
                request,
                "custody.stocktake_open",
                data,
                lambda data: services.stocktake_open(actor=request.user, **data),
            )
            opened.append(getattr(stocktake, "pk", stocktake))

        if _submitted(form, open_):
            return redirect("custody:stocktake_detail", opened[0])
    page = STOCKTAKE_PAGES.page(selectors.stocktake_list(user=request.user), request.GET)
    return render(
        request,
        "custody/stocktake_list.html",
        {
            "stocktakes": page.rows,
            "page": page,
            "sites": sites,
            "form": form,
        },
    )


def _list_query(source) -> str:
    """The stock-take list's filters (tab, search) as a query string, so that a
    check sent from the list comes back to the same view of it."""
    kept = {k: source.get(k) for k in ("show", "q") if source.get(k)}
    return ("?" + urlencode(kept)) if kept else ""


def _stocktake_page(
    request,
    stocktake,
    *,
    sign_off_form=None,
    add_form=None,
    photos_again=False,
    bulk_form=None,
    rest_form=None,
):
    show = request.GET.get("show", "all")
    if show not in selectors.STOCKTAKE_SHOW:
        show = "all"
    q = request.GET.get("q", "").strip()[:64]
    page = STOCKTAKE_LINE_PAGES.page(
        selectors.stocktake_line_page_query(stocktake=stocktake, show=show, q=q), request.GET
    )
    counts = selectors.stocktake_counts(stocktake=stocktake)
    labels = {
        "all": _("All"),
        "unchecked": _("Not checked yet"),
        "found": _("Found"),
        "damaged": _("Found damaged"),
        "missing": _("Missing"),
        "added": _("Added"),
    }
    return render(
        request,
        "custody/stocktake_detail.html",
        {
            "stocktake": stocktake,
            "is_open": stocktake.status == stocktake.Status.OPEN,
            "can_check": stocktake.status == stocktake.Status.OPEN
            and request.user.has_perm("custody.run_stocktake"),
            "lines": page.rows,
            "page": page,
            "show": show,
            "q": q,
            "tabs": [(key, labels[key], counts[key]) for key in selectors.STOCKTAKE_SHOW],
            "counts": counts,
            "list_query": _list_query(request.GET),
            "report": selectors.stocktake_report(stocktake=stocktake),
            "preview": selectors.stocktake_sign_off_preview(user=request.user, stocktake=stocktake),
            "scan_form": StockTakeScanForm(),
            "bulk_form": bulk_form or StockTakeBulkForm(),
            "rest_form": rest_form or StockTakeRestForm(),
            "sign_off_form": sign_off_form or SignOffForm(),
            "add_form": add_form or StockTakeAddForm(),
            "photos_to_choose_again": photos_again,
            "label_form": LabelFormatForm(),
        },
    )


@logs_access(AccessAction.STOCKTAKE_VIEW)
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def stocktake_detail(request, stocktake_id):
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    access_shows(request, obj=stocktake)
    return _stocktake_page(request, stocktake)


def _line_page(request, stocktake, line, form=None):
    return render(
        request,
        "custody/stocktake_line.html",
        {
            "stocktake": stocktake,
            "line": line,
            "is_open": stocktake.status == stocktake.Status.OPEN,
            "form": form
            or StockTakeCheckForm(
                initial={
                    "item": line.item_id,
                    "result": line.result
                    if line.result != line.Result.UNCHECKED
                    else line.Result.FOUND,
                    "weight_kg": line.weight_measured or "",
                    "note": line.note,
                },
                auto_id=f"id_%s_{line.item_id}",
            ),
            "list_query": _list_query(request.GET),
        },
    )


# One line: found damaged, re-weighed, a note or a photo.
@logs_access(AccessAction.STOCKTAKE_VIEW)
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def stocktake_line(request, stocktake_id, item_id):
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    line = selectors.stocktake_line_get(stocktake=stocktake, item_id=item_id)
    access_shows(request, obj=stocktake, details={"item": line.item.sms_number})
    return _line_page(request, stocktake, line)


@access_exempt(WRITE_ONLY)
@login_required
@permission_required("custody.run_stocktake", raise_exception=True)
@require_POST
def stocktake_check(request, stocktake_id):
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    line = selectors.stocktake_line_get(stocktake=stocktake, item_id=request.POST.get("item"))
    form = StockTakeCheckForm(request.POST, request.FILES, auto_id=f"id_%s_{line.item_id}")

    def check(data):
        services.stocktake_check(
            actor=request.user,
            stocktake=stocktake,
            item=line.item,
            result=data["result"],
            weight_kg=data["weight_kg"] or None,
            note=data["note"],
            photo=data["photo"],
        )

    if not _submitted(form, check):
        return _line_page(request, stocktake, line, form)
    messages.success(
        request,
        _("%(number)s recorded: %(result)s.")
        % {
            "number": line.item.sms_number,
            "result": StockTakeLine.Result(form.cleaned_data["result"]).label,
        },
    )
    return redirect(
        reverse("custody:stocktake_detail", args=[stocktake.pk])
        + _list_query(request.GET)
        + f"#item-{line.item_id}"
    )


def _scan_message(result) -> tuple[str, str]:
    """(level, sentence) of a scan's outcome, for the page and for the script."""
    if result.outcome == result.FOUND:
        return "success", _("%(number)s: found.") % {"number": result.line.item.sms_number}
    if result.outcome == result.ALREADY:
        line = result.line
        if not line.expected:
            return "info", _("%(number)s: registered during this stock-take, already listed.") % {
                "number": line.item.sms_number
            }
        return "warning", _("%(number)s: already checked (%(result)s, %(who)s).") % {
            "number": line.item.sms_number,
            "result": line.get_result_display(),
            "who": line.checked_by.display_name if line.checked_by else "—",
        }
    return "error", _(
        "%(number)s: not in this stock-take. If the item is here, register it below."
    ) % {"number": result.number}


# A scanned or typed number: checks one item found. The page's script sends it
# asking for JSON and shows the answer at once; without the script the page
# comes back with the answer on top and the cursor in the field.
@logs_access(AccessAction.STOCKTAKE_VIEW)
@login_required
@permission_required("custody.run_stocktake", raise_exception=True)
@require_POST
def stocktake_scan(request, stocktake_id):
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    form = StockTakeScanForm(request.POST)
    wants_json = "application/json" in request.headers.get("Accept", "")
    scanned = []

    def scan(data):
        scanned.append(
            services.stocktake_scan(actor=request.user, stocktake=stocktake, number=data["number"])
        )

    if not _submitted(form, scan):
        errors = [str(e) for errs in form.errors.values() for e in errs]
        level, text = "error", " ".join(errors) or _("Scan a label or type an SMS number.")
        payload = {"outcome": "invalid"}
    else:
        result = scanned[0]
        level, text = _scan_message(result)
        payload = {"outcome": result.outcome}
        if result.line is not None:
            payload.update(
                item=str(result.line.item_id),
                number=result.line.item.sms_number,
                result=result.line.result,
                result_label=result.line.get_result_display(),
            )
        access_shows(
            request,
            obj=stocktake,
            details={"scanned": result.number, "outcome": result.outcome},
        )
    if wants_json:
        counts = selectors.stocktake_counts(stocktake=stocktake)
        preview = selectors.stocktake_sign_off_preview(user=request.user, stocktake=stocktake)
        return JsonResponse(
            {
                **payload,
                "level": level,
                "message": text,
                "counts": counts,
                "missing": preview["count"],
                # The report's found weight follows the count.
                "found_weight": display.weight(
                    selectors.stocktake_found_weight(stocktake=stocktake)
                ),
                "rest_label": ngettext(
                    "The %(count)s item not checked yet is here: record it as found",
                    "All the %(count)s items not checked yet are here: record them as found",
                    counts["unchecked"],
                )
                % {"count": counts["unchecked"]},
            }
        )
    getattr(messages, level)(request, text)
    return redirect(
        reverse("custody:stocktake_detail", args=[stocktake.pk])
        + _list_query(request.POST)
        + "#scan"
    )


@access_exempt(WRITE_ONLY)
@login_required
@permission_required("custody.run_stocktake", raise_exception=True)
@require_POST
def stocktake_check_many(request, stocktake_id, rest=False):
    """Many items recorded at once: the items ticked in the list, all with one
    result; or, at the check-rest address (``rest``), "all the rest found",
    confirmed with the count the page showed."""
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    form = (StockTakeRestForm if rest else StockTakeBulkForm)(request.POST)
    done = []

    def check(data):
        if rest:
            done.append(
                services.stocktake_check_rest(
                    actor=request.user, stocktake=stocktake, confirm=data["confirm_rest"]
                )
            )
        else:
            lines = services.stocktake_check_many(
                actor=request.user, stocktake=stocktake, items=data["items"], result=data["result"]
            )
            done.append(len(lines))

    if not _submitted(form, check):
        return _stocktake_page(request, stocktake, **{"rest_form" if rest else "bulk_form": form})
    if rest:
        text = ngettext(
            "%(count)s item recorded as found.", "%(count)s items recorded as found.", done[0]
        )
    else:
        text = ngettext(
            "%(count)s item recorded: %(result)s.", "%(count)s items recorded: %(result)s.", done[0]
        )
    result = form.cleaned_data.get("result")
    messages.success(
        request,
        text % {"count": done[0], "result": StockTakeLine.Result(result).label if result else ""},
    )
    return redirect(
        reverse("custody:stocktake_detail", args=[stocktake.pk]) + _list_query(request.POST)
    )


@access_exempt(WRITE_ONLY)
@login_required
@permission_required("custody.run_stocktake", raise_exception=True)
@require_POST
def stocktake_add(request, stocktake_id):
    """An item found without a record: registered at the site, listed as added."""
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    form = StockTakeAddForm(request.POST, request.FILES)
    added = []

    def register(data):
        item_type = data["item_type"]
        fields = {"weight_kg": data["weight_kg"], "notes": data["notes"]}
        if item_type.is_lot:
            fields.update(pieces=data["pieces"], bags=data["bags"])
        return services.stocktake_register_item(
            actor=request.user,
            stocktake=stocktake,
            item_type=item_type,
            data=fields,
            photos=data["photos"],
            cites_mark=data["cites_mark"] or None,
        )

    def add(data):
        added.append(_once(request, "custody.stocktake_add", data, register))

    if not _submitted(form, add):
        # Shown again with what was typed; file inputs cannot be refilled.
        photos_again = bool(request.FILES.getlist("photos"))
        return _stocktake_page(request, stocktake, add_form=form, photos_again=photos_again)
    line, new = added[0]
    if new:
        messages.success(
            request, _("Item %(number)s registered.") % {"number": line.item.sms_number}
        )
    else:  # a double click: registered by the first one
        messages.info(request, _("This form was already sent: the item is registered once."))
    return redirect("custody:stocktake_detail", stocktake.pk)


@access_exempt(WRITE_ONLY)
@login_required
@permission_required("custody.run_stocktake", raise_exception=True)
@require_POST
def stocktake_sign_off(request, stocktake_id):
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    form = SignOffForm(request.POST)

    def sign_off(data):
        services.stocktake_sign_off(
            actor=request.user,
            stocktake=stocktake,
            note=data["note"],
            confirm_missing=data["confirm_missing"],
        )

    if not _submitted(form, sign_off):
        return _stocktake_page(request, stocktake, sign_off_form=form)
    messages.success(request, _("Stock-take signed off."))
    return redirect("custody:stocktake_detail", stocktake.pk)


# --- Stock-take sheet and labels: the items' codes on paper ----------------------------


@logs_access(AccessAction.DOCUMENT_VIEW)
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def stocktake_sheet(request, stocktake_id):
    """The stock-take's items on paper, each with its label's QR code."""
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    access_shows(request, obj=stocktake, details={"document": "stocktake_sheet"})
    pdf = documents.render_stocktake_sheet(
        country=request.tenant,
        stocktake=stocktake,
        lines=selectors.stocktake_lines(stocktake=stocktake),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{stocktake.reference}-sheet.pdf"'
    return response


@logs_access(AccessAction.DOCUMENT_VIEW)
@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def stocktake_labels(request, stocktake_id):
    """Labels for every item of the stock-take the user may see (stock.labels)."""
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    label_format = LabelFormatForm(request.GET).chosen()
    lines = selectors.stocktake_lines(stocktake=stocktake)
    items = stock_selectors.label_items(
        user=request.user, item_ids=[line.item_id for line in lines]
    )
    if not items:
        messages.error(request, _("This stock-take has no item to label."))
        return redirect("custody:stocktake_detail", stocktake.pk)
    if len(items) > stock_selectors.LABELS_LIMIT:
        messages.error(
            request,
            _(
                "Labels can be printed for at most %(limit)s items at once: print this "
                "store's labels from the item list, one type at a time."
            )
            % {"limit": number_format(stock_selectors.LABELS_LIMIT, force_grouping=True)},
        )
        return redirect("custody:stocktake_detail", stocktake.pk)
    access_shows(
        request,
        obj=stocktake,
        details={"document": "labels", "label_format": label_format, "count": len(items)},
    )
    pdf = stock_labels.render_labels(items, label_format=label_format, title=stocktake.reference)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{stocktake.reference}-labels.pdf"'
    return response


# --- Ledger ------------------------------------------------------------------------------


@logs_access(AccessAction.LEDGER_VIEW)
@login_required
@require_http_methods(["GET", "POST"])
def ledger_check(request):
    """Auditors (and administrators) check the whole chain of the country, see
    its signing key, download a checkpoint and check one (POST)."""
    result = selectors.ledger_verify(user=request.user)
    form = CheckpointForm(request.POST or None)
    checked = None
    if request.method == "POST" and form.is_valid():
        try:
            checked = selectors.ledger_checkpoint_check(
                user=request.user, text=form.cleaned_data["checkpoint"]
            )
        except ValidationError as exc:
            form.add_error("checkpoint", exc.message_dict["checkpoint"])
    return render(
        request,
        "custody/ledger_check.html",
        {
            "result": result,
            "recent": selectors.ledger_recent(user=request.user),
            "key": selectors.ledger_key(user=request.user),
            "checkpoint": selectors.ledger_checkpoint(user=request.user),
            "form": form,
            "checked": checked,
        },
    )


@access_exempt("a signed checkpoint holds no stock data: only the chain's length and last hash")
@login_required
@require_GET
def ledger_checkpoint(request):
    """The signed checkpoint as a JSON file, to keep outside SMS."""
    checkpoint = selectors.ledger_checkpoint(user=request.user)
    if not isinstance(checkpoint, Checkpoint):
        messages.error(request, _("No checkpoint: the end of the ledger does not verify."))
        return redirect("custody:ledger_check")
    response = HttpResponse(checkpoint.as_json(), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{checkpoint.filename}"'
    return response
