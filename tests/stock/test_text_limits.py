"""Every free text has a length limit, checked by its form and by the service
that writes it, with a message naming the field."""

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from administration import forms as administration_forms
from core.text import NOTE_MAX_LENGTH
from custody import forms as custody_forms
from custody import services as custody_services
from odk import forms as odk_forms
from reporting import forms as reporting_forms
from reporting import services as reporting_services
from stock import forms as stock_forms
from stock import selectors, services
from stock.models import ItemType, Site, StockItem
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db

TOO_LONG = "x" * (NOTE_MAX_LENGTH + 1)


@pytest.fixture
def signed_in(client, host_a):
    def login(user):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host_a
        return client

    return login


def test_a_too_long_note_is_refused_by_the_register_form_naming_the_field(reg, signed_in):
    client = signed_in(reg.manager_x)
    response = client.post(
        "/items/new/",
        {
            "site": reg.site_x.pk,
            "item_type": reg.tusk.pk,
            "weight_kg": "12.500",
            "received_on": "2026-03-01",
            "source": "seizure",
            "legal_status": "government_property",
            "notes": TOO_LONG,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["notes"] == [
        "Notes: at most 2,000 characters (this text has 2,001)."
    ]
    assert not StockItem.objects.exists()
    # The browser stops typing at the limit too.
    assert 'maxlength="2000"' in response.content.decode()


def test_the_service_refuses_it_too_whoever_calls_it(reg):
    with pytest.raises(ValidationError) as exc:
        register(reg, notes=TOO_LONG)
    assert exc.value.message_dict["notes"] == [
        "Notes: at most 2,000 characters (this text has 2,001)."
    ]
    item = register(reg, notes="y" * NOTE_MAX_LENGTH)  # exactly the limit is fine
    with pytest.raises(ValidationError) as exc:
        services.item_correct(actor=reg.manager_x, item=item, changes={}, reason=TOO_LONG)
    assert exc.value.message_dict["reason"][0].startswith("Reason: at most 2,000 characters")
    with pytest.raises(ValidationError) as exc:
        services.item_archive(
            actor=reg.manager_x,
            item=item,
            reason="destroyed",
            archived_on=item.received_on,
            authority_reference="A" * 201,
            destruction_method="burnt",
            witnesses=TOO_LONG,
        )
    errors = exc.value.message_dict
    assert errors["authority_reference"][0].startswith("Authority reference: at most 200")
    assert errors["witnesses"][0].startswith("Witnesses: at most 2,000")


def test_custody_texts_are_refused_with_a_message_not_a_database_error(reg):
    items = [register(reg) for _ in range(2)]
    with pytest.raises(ValidationError) as exc:
        custody_services.transfer_create(
            actor=reg.manager_x,
            origin=reg.site_x,
            destination=reg.site_y,
            items=items[:1],
            reason=TOO_LONG,
            authority_reference="MIN/1",
        )
    assert exc.value.message_dict["reason"][0].startswith("Reason: at most 2,000")
    transfer = custody_services.transfer_create(
        actor=reg.manager_x,
        origin=reg.site_x,
        destination=reg.site_y,
        items=items[:1],
        reason="Consolidation",
        authority_reference="MIN/1",
    )
    # The vehicle column holds 100 characters: before, 101 was a database error (a 500).
    with pytest.raises(ValidationError) as exc:
        custody_services.transfer_dispatch(
            actor=reg.manager_x,
            transfer=transfer,
            seal_numbers="S-1",
            courier="Ranger",
            vehicle="V" * 101,
            dispatching_officer="Officer",
        )
    assert exc.value.message_dict["vehicle"] == [
        "Vehicle: at most 100 characters (this text has 101)."
    ]
    with pytest.raises(ValidationError) as exc:
        custody_services.stocktake_open(actor=reg.manager_x, site=reg.site_x, notes=TOO_LONG)
    assert "notes" in exc.value.message_dict


def test_the_dispatch_form_names_the_field(reg, signed_in):
    item = register(reg)
    transfer = custody_services.transfer_create(
        actor=reg.manager_x,
        origin=reg.site_x,
        destination=reg.site_y,
        items=[item],
        reason="Consolidation",
        authority_reference="MIN/1",
    )
    response = signed_in(reg.manager_x).post(
        reverse("custody:transfer_dispatch", args=[transfer.pk]),
        {
            "seal_numbers": "S-1",
            "courier": "Ranger",
            "vehicle": "V" * 101,
            "dispatching_officer": "Officer",
        },
    )
    assert response.status_code == 200
    assert "Vehicle: at most 100 characters (this text has 101)." in response.content.decode()


def test_cites_reasons_have_their_own_limit(reg):
    with pytest.raises(ValidationError) as exc:
        reporting_services.report_request(
            actor=reg.hq, kind="cites", fmt="csv", title="x", params={}, reasons="r" * 10_001
        )
    assert exc.value.message_dict["reasons"][0].startswith(
        "Reasons for significant changes: at most 10,000"
    )


def _forms(reg):
    """An instance of every form that takes text from a person."""
    item = register(reg)
    definitions = selectors.custom_fields_for_type(item_type=reg.tusk)
    return [
        stock_forms.RegisterForm(user=reg.manager_x, item_type=reg.tusk, definitions=definitions),
        stock_forms.CorrectForm(item=item, definitions=definitions),
        stock_forms.ArchiveForm(),
        selectors.item_filter(user=reg.manager_x, data={}).form,
        selectors.archive_filter(user=reg.manager_x, data={}).form,
        stock_forms.CustomFieldForm(languages=[("en", "English"), ("fr", "French")]),
        custody_forms.TransferForm(
            destinations=Site.objects.all(),
            items=StockItem.objects.all(),
            item_types=ItemType.objects.all(),
        ),
        custody_forms.StockTakeScanForm(),
        custody_forms.StockTakeBulkForm(),
        custody_forms.StockTakeRestForm(),
        custody_forms.DispatchForm(),
        custody_forms.CancelForm(),
        custody_forms.ReceiveForm(lines=[]),
        custody_forms.StockTakeOpenForm(sites=Site.objects.all()),
        custody_forms.StockTakeCheckForm(),
        custody_forms.StockTakeAddForm(),
        custody_forms.SignOffForm(),
        custody_forms.ToleranceForm(),
        reporting_forms.ExportForm(),
        administration_forms.InviteForm(actor=reg.admin),
        administration_forms.UserEditForm(actor=reg.admin),
        administration_forms.RoleForm(),
        administration_forms.SupportGrantForm(),
        administration_forms.DecisionForm(),
        odk_forms.ConnectionForm(),
        odk_forms.RejectForm(),
    ]


def test_every_text_input_of_every_form_has_a_limit(reg):
    unlimited = [
        f"{type(form).__name__}.{name}"
        for form in _forms(reg)
        for name, field in form.fields.items()
        if type(field) is forms.CharField
        and not field.widget.is_hidden
        and not isinstance(field.widget, forms.PasswordInput)
        and not field.max_length
    ]
    assert unlimited == []
