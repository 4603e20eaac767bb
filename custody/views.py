"""Screens of transfers, discrepancies, stock-takes and the ledger check
(country schema). Views parse input, call one selector or service, render;
objects outside the user's scope are 404 (the selectors raise it)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stock import selectors as stock_selectors
from stock.models import ItemType

from . import documents, selectors, services
from .models import Discrepancy, StockTakeLine, Transfer

VIEW_PERM = "stock.view_stockitem"


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [str(m) for messages_ in exc.message_dict.values() for m in messages_]
    return [str(m) for m in exc.messages]


def _flash_errors(request, exc: ValidationError) -> None:
    for message in _errors(exc):
        messages.error(request, message)


def _site(queryset, value):
    try:
        return queryset.filter(pk=int(value)).first() if value else None
    except (TypeError, ValueError):
        return None


# --- Transfers ---------------------------------------------------------------------


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def transfer_list(request):
    status = request.GET.get("status", "")
    transfers = selectors.transfer_list(user=request.user, filters={"status": status})[:200]
    return render(
        request,
        "custody/transfer_list.html",
        {"transfers": transfers, "statuses": Transfer.Status.choices, "status": status},
    )


@login_required
@permission_required("custody.dispatch_transfer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def transfer_new(request):
    """Choose the sending site first (the page reloads with its items), then
    the destination, the items, the reason and the authority reference."""
    source = request.POST if request.method == "POST" else request.GET
    origins = selectors.sites_for_dispatch(user=request.user)
    origin = _site(origins, source.get("origin"))
    if origin is None and len(origins[:2]) == 1:
        origin = origins[0]
    destinations = selectors.destinations()
    if origin is not None:
        destinations = destinations.exclude(pk=origin.pk)
    items = selectors.items_for_transfer(user=request.user, site=origin) if origin else []
    errors = []
    if request.method == "POST" and origin is not None:
        try:
            transfer = services.transfer_create(
                actor=request.user,
                origin=origin,
                destination=_site(destinations, source.get("destination")),
                items=[i for i in items if str(i.pk) in source.getlist("items")],
                reason=source.get("reason", ""),
                authority_reference=source.get("authority_reference", ""),
                notes=source.get("notes", ""),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request,
                _("Transfer %(reference)s prepared. Check the items, then dispatch it.")
                % {"reference": transfer.reference},
            )
            return redirect("custody:transfer_detail", transfer.pk)
    return render(
        request,
        "custody/transfer_new.html",
        {
            "origins": origins,
            "origin": origin,
            "destinations": destinations,
            "items": items,
            "chosen": set(source.getlist("items")),
            "data": source,
            "errors": errors,
        },
    )


def _transfer_page(request, transfer, *, status=200):
    return render(
        request,
        "custody/transfer_detail.html",
        {
            "transfer": transfer,
            "lines": selectors.transfer_lines(transfer=transfer),
            "discrepancies": selectors.transfer_discrepancies(transfer=transfer),
            "can": selectors.transfer_actions(user=request.user, transfer=transfer),
        },
        status=status,
    )


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def transfer_detail(request, transfer_id):
    transfer = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
    return _transfer_page(request, transfer)


@login_required
@permission_required("custody.dispatch_transfer", raise_exception=True)
@require_POST
def transfer_dispatch(request, transfer_id):
    transfer = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
    try:
        services.transfer_dispatch(
            actor=request.user,
            transfer=transfer,
            seal_numbers=request.POST.get("seal_numbers", ""),
            courier=request.POST.get("courier", ""),
            vehicle=request.POST.get("vehicle", ""),
            dispatching_officer=request.POST.get("dispatching_officer", ""),
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("Dispatched. Print the manifest for the courier."))
    return redirect("custody:transfer_detail", transfer.pk)


@login_required
@permission_required("custody.dispatch_transfer", raise_exception=True)
@require_POST
def transfer_cancel(request, transfer_id):
    transfer = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
    try:
        services.transfer_cancel(
            actor=request.user, transfer=transfer, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("The transfer is cancelled; its items are free again."))
    return redirect("custody:transfer_detail", transfer.pk)


@login_required
@permission_required("custody.receive_transfer", raise_exception=True)
@require_POST
def transfer_receive(request, transfer_id):
    """One row per item still on its way: "arrived", "absent" or "not yet"."""
    transfer = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
    checks = []
    for line in selectors.transfer_lines(transfer=transfer):
        if line.state != line.State.IN_TRANSIT:
            continue
        key = str(line.item_id)
        outcome = request.POST.get(f"outcome_{key}", "")
        if outcome not in ("arrived", "absent"):
            continue
        checks.append(
            services.ReceiptCheck(
                item_id=line.item_id,
                present=outcome == "arrived",
                seal_intact=request.POST.get(f"seal_{key}") == "on",
                weight_kg=request.POST.get(f"weight_{key}"),
                note=request.POST.get(f"note_{key}", ""),
            )
        )
    try:
        services.transfer_receive(actor=request.user, transfer=transfer, checks=checks)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("Receipt recorded."))
    return redirect("custody:transfer_detail", transfer.pk)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def transfer_pdf(request, transfer_id, kind):
    if kind not in (documents.MANIFEST, documents.RECEIPT):
        raise Http404
    transfer = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
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


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def discrepancy_list(request):
    if request.method == "POST":
        # The country's tolerance, set by an administrator on this page.
        try:
            services.settings_update(
                actor=request.user,
                transfer_weight_tolerance_percent=request.POST.get("tolerance", ""),
            )
        except ValidationError as exc:
            _flash_errors(request, exc)
        else:
            messages.success(request, _("Tolerance saved."))
        return redirect("custody:discrepancy_list")
    show_all = request.GET.get("all") == "1"
    return render(
        request,
        "custody/discrepancy_list.html",
        {
            "discrepancies": selectors.discrepancy_list(user=request.user, open_only=not show_all)[
                :200
            ],
            "show_all": show_all,
            "settings": services.custody_settings(),
        },
    )


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def discrepancy_resolve(request, discrepancy_id):
    discrepancy = selectors.discrepancy_get(user=request.user, discrepancy_id=discrepancy_id)
    errors = []
    if request.method == "POST":
        if not request.user.has_perm("custody.resolve_discrepancy"):
            raise Http404
        try:
            services.discrepancy_resolve(
                actor=request.user,
                discrepancy=discrepancy,
                resolution=request.POST.get("resolution", ""),
                note=request.POST.get("note", ""),
                weight_kg=request.POST.get("weight_kg") or None,
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Discrepancy resolved."))
            return redirect("custody:transfer_detail", discrepancy.transfer_id)
    choices = [
        (value, Discrepancy.Resolution(value).label)
        for value in Discrepancy.CHOICES_BY_KIND[discrepancy.kind]
    ]
    return render(
        request,
        "custody/discrepancy_resolve.html",
        {"d": discrepancy, "choices": choices, "errors": errors, "data": request.POST},
    )


# --- Stock-takes ---------------------------------------------------------------------------


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def stocktake_list(request):
    sites = selectors.sites_for_stocktake(user=request.user)
    if request.method == "POST":
        if not request.user.has_perm("custody.run_stocktake"):
            raise Http404
        try:
            stocktake = services.stocktake_open(
                actor=request.user,
                site=_site(sites, request.POST.get("site")),
                notes=request.POST.get("notes", ""),
            )
        except ValidationError as exc:
            _flash_errors(request, exc)
            return redirect("custody:stocktake_list")
        return redirect("custody:stocktake_detail", stocktake.pk)
    return render(
        request,
        "custody/stocktake_list.html",
        {"stocktakes": selectors.stocktake_list(user=request.user)[:200], "sites": sites},
    )


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def stocktake_detail(request, stocktake_id):
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    return render(
        request,
        "custody/stocktake_detail.html",
        {
            "stocktake": stocktake,
            "is_open": stocktake.status == stocktake.Status.OPEN,
            "lines": selectors.stocktake_lines(stocktake=stocktake),
            "report": selectors.stocktake_report(stocktake=stocktake),
            "results": [
                c for c in StockTakeLine.Result.choices if c[0] != StockTakeLine.Result.UNCHECKED
            ],
            "item_types": ItemType.objects.filter(enabled=True),
        },
    )


@login_required
@permission_required("custody.run_stocktake", raise_exception=True)
@require_POST
def stocktake_check(request, stocktake_id):
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    item = stock_selectors.item_get(user=request.user, item_id=request.POST.get("item"))
    try:
        services.stocktake_check(
            actor=request.user,
            stocktake=stocktake,
            item=item,
            result=request.POST.get("result", ""),
            weight_kg=request.POST.get("weight_kg") or None,
            note=request.POST.get("note", ""),
            photo=request.FILES.get("photo"),
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect(f"{stocktake_url(stocktake)}#item-{item.pk}")


def stocktake_url(stocktake) -> str:
    from django.urls import reverse

    return reverse("custody:stocktake_detail", args=[stocktake.pk])


@login_required
@permission_required("custody.run_stocktake", raise_exception=True)
@require_POST
def stocktake_add(request, stocktake_id):
    """An item found without a record: registered at the site, listed as added."""
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    item_type = ItemType.objects.filter(pk=request.POST.get("item_type") or 0).first()
    if item_type is None:
        messages.error(request, _("Choose the item type."))
        return redirect("custody:stocktake_detail", stocktake.pk)
    data = {"weight_kg": request.POST.get("weight_kg", ""), "notes": request.POST.get("notes", "")}
    if item_type.is_lot:
        data.update(pieces=request.POST.get("pieces", ""), bags=request.POST.get("bags", ""))
    try:
        line = services.stocktake_register_item(
            actor=request.user,
            stocktake=stocktake,
            item_type=item_type,
            data=data,
            photos=request.FILES.getlist("photos"),
            cites_mark=request.POST.get("cites_mark") or None,
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(
            request, _("Item %(number)s registered.") % {"number": line.item.sms_number}
        )
    return redirect("custody:stocktake_detail", stocktake.pk)


@login_required
@permission_required("custody.run_stocktake", raise_exception=True)
@require_POST
def stocktake_sign_off(request, stocktake_id):
    stocktake = selectors.stocktake_get(user=request.user, stocktake_id=stocktake_id)
    try:
        services.stocktake_sign_off(
            actor=request.user, stocktake=stocktake, note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("Stock-take signed off."))
    return redirect("custody:stocktake_detail", stocktake.pk)


# --- Ledger ------------------------------------------------------------------------------


@login_required
@require_GET
def ledger_check(request):
    """Auditors (and administrators) check the whole chain of the country."""
    result = selectors.ledger_verify(user=request.user)
    return render(
        request,
        "custody/ledger_check.html",
        {"result": result, "recent": selectors.ledger_recent(user=request.user)},
    )
