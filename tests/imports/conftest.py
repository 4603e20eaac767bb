"""Register import fixtures: country A's register (tests/stock's), a custom
field, an SMS administrator, and spreadsheets built in memory."""

import io
import zipfile

import pytest
from openpyxl import Workbook

from stock.models import CustomFieldDefinition
from tests.stock.conftest import (  # noqa: F401 - fixtures and helpers
    _media_in_tmp,
    image_bytes,
    make_register,
    register,
)


@pytest.fixture
def reg(in_country_a):
    reg = make_register()
    reg.ivory.mark_pattern = "{country} {yy}/{serial}/{weight}"
    reg.ivory.save()
    CustomFieldDefinition.objects.create(
        key="seizure_ref",
        labels={"en": "Seizure file", "fr": "Dossier de saisie"},
        field_type="text",
    )
    CustomFieldDefinition.objects.create(
        key="moisture",
        labels={"en": "Moisture", "fr": "Humidité"},
        field_type="decimal",
        unit="%",
    )
    return reg


def xlsx(headers, rows, *, title="Inventory 2015") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def photo_zip(names) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for number, name in enumerate(names):
            archive.writestr(f"photos/{name}", image_bytes(color=(number * 40 % 255, 90, 60)))
    return out.getvalue()


def named(content: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)
