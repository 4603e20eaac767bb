"""Reads of the register import (country schema).

An import run holds a whole file: rows of any store, the mapping of its
columns, the checked copy. So a run is visible (listed, opened, mapped,
downloaded) only to the person who uploaded it and to those who see every
site (stock.scope.sees_all_sites) — never to an administrator of some stores
because they hold the import permission.
"""

from django.http import Http404

from accounts.permissions import require
from stock.scope import sees_all_sites

from .models import ImportRun
from .services import PERMISSION


def _visible_runs(user):
    runs = ImportRun.objects.select_related("requested_by")
    if sees_all_sites(user):
        return runs
    return runs.filter(requested_by_id=user.pk)


def runs_recent(*, user, limit: int = 20) -> list[ImportRun]:
    require(user, PERMISSION)
    return list(_visible_runs(user)[:limit])


def run_get(*, user, run_id: int) -> ImportRun:
    require(user, PERMISSION)
    run = _visible_runs(user).filter(pk=run_id).first()
    if run is None:
        raise Http404
    return run
