"""What several stock services share (country schema): the locked item in
the actor's scope, photo checks and storage."""

from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.http import Http404
from django.utils.translation import gettext as _

from ..evidence import derived_record
from ..models import DerivedPhotoFile, ItemPhoto, StockItem
from ..photos import PhotoRefused, check_photo
from ..scope import can_see_site


def locked_item_in_scope(*, actor, item: StockItem) -> StockItem:
    """``item`` re-read and locked FOR UPDATE; Http404 when its site is outside
    the actor's scope (as for any object outside it)."""
    locked = (
        StockItem.objects.select_for_update().select_related("item_type__category").get(pk=item.pk)
    )
    if not can_see_site(actor, locked.site):
        raise Http404
    return locked


def check_photos(photos: Iterable) -> tuple[list, list[str]]:
    """(checked photos, messages naming each refused one)."""
    checked, messages = [], []
    for number, upload in enumerate(photos, start=1):
        try:
            checked.append(check_photo(upload))
        except PhotoRefused as exc:
            name = getattr(upload, "name", "") or _("photo %(number)s") % {"number": number}
            messages.append(f"{name}: {exc}")
    return checked, messages


def store_photo(*, actor, item: StockItem, checked, caption: str = "") -> ItemPhoto:
    photo = ItemPhoto(
        item=item,
        sha256=checked.sha256,
        size_bytes=checked.size_bytes,
        content_type=checked.content_type,
        width=checked.width,
        height=checked.height,
        caption=caption,
        uploaded_by=actor,
    )
    # Files first (their names need the item id), then one INSERT. A rollback
    # after this point can leave an orphan file, never a row without its file.
    photo.file.save(f"original.{checked.extension}", ContentFile(checked.content), save=False)
    photo.thumbnail.save("thumb.jpg", ContentFile(checked.thumbnail), save=False)
    photo.save()
    # The thumbnail's fingerprint, checked before it is served (stock.evidence).
    derived_record(
        photo=photo,
        kind=DerivedPhotoFile.Kind.THUMBNAIL,
        name=photo.thumbnail.name,
        content=checked.thumbnail,
    )
    return photo
