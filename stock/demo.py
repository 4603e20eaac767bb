"""Demo stock for a country (country schema; the caller is on that schema).

Everything is registered through stock.services, so the demo obeys the same
rules as real data (numbers, marks, totals, photos). Deterministic: the same
count gives the same stock.
"""

import datetime
import io
import random
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import User
from accounts.roles import ROLES, STORE_MANAGER

from . import services
from .custom_fields import definitions_for_type
from .models import ArchiveRecord, ItemType, Site, StockItem

REGISTRAR = "demo.registrar"
SPECIES = {
    "ivory": ["Loxodonta africana", "Loxodonta cyclotis"],
    "rhino_horn": ["Diceros bicornis", "Ceratotherium simum"],
    "pangolin": ["Smutsia temminckii", "Phataginus tricuspis"],
    "skin": ["Panthera pardus", "Panthera leo"],
}
# Where each kind of product plausibly comes from (StockItem.Source), as a
# store's register shows it: ivory from seizures, natural deaths and
# problem-animal control, never from dehorning; horn from dehorning too.
SOURCES = {
    "ivory": ["seizure"] * 4 + ["natural_mortality"] * 3 + ["management"] * 2 + ["surrender"],
    "rhino_horn": ["dehorning"] * 3 + ["seizure"] * 3 + ["natural_mortality", "poached_carcass"],
    "pangolin": ["seizure"] * 5 + ["surrender"],
    "skin": ["seizure"] * 3 + ["surrender"],
    "weapon": ["seizure"],
    "other": ["seizure", "surrender", "unknown"],
}
# (min kg, max kg) per kind of type.
WEIGHTS = {
    "ivory": (0.4, 28.0),
    "rhino_horn": (0.3, 4.5),
    "pangolin": (0.2, 60.0),
    "skin": (1.0, 9.0),
    "weapon": (0.5, 6.0),
    "other": (0.2, 10.0),
}


def _registrar() -> User:
    # A service account that registers the demo stock; it cannot log in.
    user, created = User.objects.get_or_create(
        username=REGISTRAR,
        defaults={"full_name": "Demo data", "all_sites": True},
    )
    user.is_active = True
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=ROLES[STORE_MANAGER].name))
    user.save(update_fields=["is_active"])
    return User.objects.get(pk=user.pk)  # fresh permission cache


def _photo(rng: random.Random, label: str) -> io.BytesIO:
    image = Image.new("RGB", (320, 240), tuple(rng.randint(150, 235) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 60, 280, 180), fill=tuple(rng.randint(80, 200) for _ in range(3)))
    draw.text((12, 10), label, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    out.seek(0)
    out.name = "demo.jpg"
    return out


def _custom_values(rng: random.Random, item_type: ItemType, data: dict) -> dict:
    """Plausible values for the required fields (and half the optional ones)."""
    values = {}
    for definition in definitions_for_type(item_type):
        if not definition.required and rng.random() < 0.5:
            continue
        kind = definition.field_type
        choices = [c.get("value") for c in definition.choices or []]
        if kind == "integer":
            values[definition.key] = data.get("bags") or rng.randint(1, 12)
        elif kind == "decimal":
            values[definition.key] = str(round(rng.uniform(0.5, 50), 1))
        elif kind == "date":
            values[definition.key] = data["received_on"].isoformat()
        elif kind == "boolean":
            values[definition.key] = rng.random() < 0.5
        elif kind == "choice" and choices:
            values[definition.key] = rng.choice(choices)
        elif kind == "multi_choice" and choices:
            values[definition.key] = [rng.choice(choices)]
        elif kind == "text":
            values[definition.key] = f"DEMO-{rng.randint(1000, 9999)}"
    return values


@transaction.atomic
def seed_demo_stock(*, country, count: int = 300, photo_share: float = 0.2) -> int:
    """Register ``count`` items across the country's sites and types, with
    generated photos for about ``photo_share`` of them; a few are archived.
    Does nothing when the country already has items. Returns items created."""
    if StockItem.objects.exists():
        return 0
    sites = list(Site.objects.filter(active=True))
    types = list(ItemType.objects.filter(enabled=True).select_related("category"))
    if not sites or not types:
        return 0
    rng = random.Random(f"{country.code}-{count}")
    actor = _registrar()
    today = timezone.localdate()
    created = []
    for number in range(count):
        item_type = rng.choice(types)
        kind = item_type.category.kind
        low, high = WEIGHTS.get(kind, WEIGHTS["other"])
        weight = Decimal(str(round(rng.uniform(low, high), 3)))
        received = today - datetime.timedelta(days=rng.randint(0, 3 * 365))
        data = {
            "weight_kg": weight,
            "source": rng.choice(SOURCES.get(kind, SOURCES["other"])),
            "received_on": received,
            "acquired_on": received - datetime.timedelta(days=rng.randint(0, 60)),
            "received_by": rng.choice(["J. Mwangi", "A. Diallo", "M. Banda", "S. Okoro"]),
            "species": rng.choice(SPECIES.get(kind, [""])),
            "country_of_origin": country.code,
        }
        if item_type.is_lot:
            data.update(pieces=rng.randint(50, 5000), bags=rng.randint(1, 8))
        if kind == "ivory":
            data.update(
                side=rng.choice(["L", "R"]),
                length_outer_cm=Decimal(str(round(rng.uniform(12, 180), 1))),
            )
        if kind == "rhino_horn" and not item_type.is_lot:
            # One horn, one position (a piece's is known from its horn).
            data.update(
                horn_position=rng.choice(["anterior", "posterior"]),
                base_circumference_cm=Decimal(str(round(rng.uniform(20, 60), 1))),
                weight_is_final=rng.random() > 0.2,
            )
        if data["source"] == "seizure":
            data.update(
                legal_status=rng.choice(["evidence", "under_investigation", "forfeited"]),
                case_reference=f"CR-{received.year}-{number + 1:04d}",
                country_of_seizure=country.code,
                court_hold=rng.random() < 0.3,
            )
        photos = [_photo(rng, item_type.code)] if rng.random() < photo_share else []
        created.append(
            services.item_register(
                actor=actor,
                site=rng.choice(sites),
                item_type=item_type,
                data=data,
                custom_values=_custom_values(rng, item_type, data),
                photos=photos,
            )
        )
    for item in rng.sample(created, k=max(1, count // 30)):
        services.item_archive(
            actor=actor,
            item=item,
            reason=ArchiveRecord.Reason.DESTROYED,
            archived_on=max(item.received_on, today - datetime.timedelta(days=30)),
            authority_reference="Ministerial order 2/2026",
            destruction_method="Public burn",
            witnesses="Director of Wildlife; two auditors",
        )
    # Its work is done: the account stays (it is the author of the records)
    # but is no longer an active user.
    actor.is_active = False
    actor.deactivated_at = timezone.now()
    actor.save(update_fields=["is_active", "deactivated_at"])
    return len(created)
