"""What one ODK sync run reads once and reports (country schema)."""

from dataclasses import dataclass, field

from stock.custom_fields import definitions_for_type
from stock.models import CustomFieldDefinition, ItemType, Site
from stock.scope import remember_scope

from ..models import AppUser


@dataclass
class SyncReport:
    skipped: bool = False
    error: str = ""
    # The run stopped because Central was unreachable, too slow or failing.
    central_down: bool = False
    pages: int = 0
    rows: int = 0
    processed: int = 0
    needs_review: int = 0
    unchanged: int = 0
    attachments: int = 0
    reviews_pushed: int = 0
    forms: list[str] = field(default_factory=list)


class Run:
    """What a sync run reads once and uses for every submission.

    Sites, item types, custom field definitions and app users don't change
    while a run lasts (a few minutes at most); if an administrator changes
    one meanwhile, the next run sees it, as a web form opened before the
    change would. One user object per app user: Django caches permissions on
    the object, and stock.scope.remember_scope its sites, so they are read
    once per run, not once per submission.
    """

    def __init__(self, *, client=None, conn=None, report: SyncReport | None = None):
        self.client = client
        self.conn = conn
        self.report = report or SyncReport()
        self._sites: dict[str, Site | None] = {}
        self._types: dict[str, ItemType | None] = {}
        self._definitions: dict[int | None, list[CustomFieldDefinition]] = {}
        self._actors: dict[int, object] | None = None
        self._scoped: set[int] = set()

    def site(self, code) -> Site | None:
        code = code or ""
        if code not in self._sites:
            self._sites[code] = Site.objects.filter(code=code).first()
        return self._sites[code]

    def item_type(self, code) -> ItemType | None:
        code = code or ""
        if code not in self._types:
            self._types[code] = (
                ItemType.objects.select_related("category").filter(code=code).first()
            )
        return self._types[code]

    def definitions(self, item_type: ItemType | None) -> list[CustomFieldDefinition]:
        key = item_type.pk if item_type else None
        if key not in self._definitions:
            self._definitions[key] = (
                definitions_for_type(item_type)
                if item_type
                else list(CustomFieldDefinition.objects.filter(active=True))
            )
        return self._definitions[key]

    def actor(self, submitter_id: int | None):
        if self._actors is None:
            self._actors = {
                app_user.central_id: app_user.user
                for app_user in AppUser.objects.select_related("user")
            }
        actor = self._actors.get(submitter_id)
        if actor is not None and submitter_id not in self._scoped:
            remember_scope(actor)  # its sites, read once per run like its permissions
            self._scoped.add(submitter_id)
        return actor
