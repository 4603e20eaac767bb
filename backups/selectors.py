"""Reads of the restore drills, for the platform staff console (public schema)."""

from .models import RestoreDrill


def drill_list(*, limit: int = 10) -> list[RestoreDrill]:
    return list(RestoreDrill.objects.order_by("-started_at", "-id")[:limit])
