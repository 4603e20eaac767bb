"""Stock fixtures: a small register in country A (sites X and Y, ivory and
pangolin types, a store manager per site, an HQ officer)."""

import io
import itertools
from dataclasses import dataclass

import pytest
from PIL import Image

from accounts.roles import HQ_OFFICER, SMS_ADMINISTRATOR, STORE_MANAGER
from stock import services
from tests.factories import ItemCategoryFactory, ItemTypeFactory, SiteFactory, make_user

_names = itertools.count(1)


@dataclass
class Register:
    site_x: object
    site_y: object
    ivory: object
    pangolin: object
    tusk: object
    cut_piece: object
    scales: object
    manager_x: object
    manager_y: object
    hq: object
    admin: object


def make_register():
    """Build the register's configuration in the connection's current schema."""
    site_x = SiteFactory(code="site-x", name="Store X")
    site_y = SiteFactory(code="site-y", name="Store Y")
    ivory = ItemCategoryFactory(code="ivory", kind="ivory")
    pangolin = ItemCategoryFactory(code="pangolin", kind="pangolin")
    return Register(
        site_x=site_x,
        site_y=site_y,
        ivory=ivory,
        pangolin=pangolin,
        tusk=ItemTypeFactory(code="whole-tusk", category=ivory, marking="cites_ivory", whole=True),
        cut_piece=ItemTypeFactory(code="cut-piece", category=ivory, marking="cites_ivory"),
        scales=ItemTypeFactory(code="scales", category=pangolin, counting="lot"),
        manager_x=make_user(role=STORE_MANAGER, sites=[site_x]),
        manager_y=make_user(role=STORE_MANAGER, sites=[site_y]),
        hq=make_user(role=HQ_OFFICER, all_sites=True),
        admin=make_user(role=SMS_ADMINISTRATOR, all_sites=True),
    )


@pytest.fixture
def reg(in_country_a):
    return make_register()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def register(reg, *, site=None, item_type=None, actor=None, photos=(), **data):
    """Register through the service with sensible defaults."""
    item_type = item_type or reg.tusk
    fields = {"weight_kg": "12.500", "source": "seizure"}
    if item_type.is_lot:
        fields.update(pieces=500, bags=2)
    fields.update(data)
    custom_values = fields.pop("custom_values", None)
    cites_mark = fields.pop("cites_mark", None)
    return services.item_register(
        actor=actor or reg.manager_x,
        site=site or reg.site_x,
        item_type=item_type,
        data=fields,
        custom_values=custom_values,
        photos=photos,
        cites_mark=cites_mark,
    )


def image_bytes(fmt="JPEG", size=(64, 48), color=(200, 180, 150), exif=None) -> bytes:
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def upload(content: bytes, name="photo.jpg", content_type="image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)
