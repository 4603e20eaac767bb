"""Reads of the register import (country schema)."""

from django.http import Http404

from accounts.permissions import require

from .models import ImportRun
from .services import PERMISSION


def runs_recent(*, user, limit: int = 20) -> list[ImportRun]:
    require(user, PERMISSION)
    return list(ImportRun.objects.select_related("requested_by")[:limit])


def run_get(*, user, run_id: int) -> ImportRun:
    require(user, PERMISSION)
    run = ImportRun.objects.select_related("requested_by").filter(pk=run_id).first()
    if run is None:
        raise Http404
    return run
