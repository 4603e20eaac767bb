"""Restore drills' results (public schema): what the platform staff console
lists and the drill's e-mail reports."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RestoreDrill(models.Model):
    class Result(models.TextChoices):
        RUNNING = "running", _("Running")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    result = models.CharField(
        _("result"), max_length=16, choices=Result.choices, default=Result.RUNNING
    )
    # What was restored: "export" (the latest archive of each country) or
    # another source's name (backups.drill.DrillSource).
    source = models.CharField(_("source"), max_length=32)
    countries = models.JSONField(_("countries"), default=list)
    # One entry per country: its archive, the checks run on the scratch copy
    # and the row counts compared with production (backups.drill).
    details = models.JSONField(_("details"), default=list)
    # Problems, one line each (empty when the drill passed).
    problems = models.JSONField(_("problems"), default=list)

    class Meta:
        verbose_name = _("restore drill")
        verbose_name_plural = _("restore drills")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.result}"

    @property
    def duration_seconds(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds())
