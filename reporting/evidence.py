"""Report snapshots as evidence (country schema): a generated report's file is
checked against the SHA-256 recorded when it was made, before it is
downloaded (remembered as in core.fingerprints) and every night
(``verify_evidence``, which hashes every byte)."""

from dataclasses import dataclass

from core import fingerprints

from .models import ReportRun


def _cache_key(run: ReportRun) -> str:
    return f"report-fingerprint:{run.pk}"


def run_open_checked(run: ReportRun):
    """(FileCheck, handle or None) of a ready report; serve the handle only if ok."""
    return fingerprints.open_checked(
        run.file, expected_sha256=run.sha256, cache_key=_cache_key(run)
    )


@dataclass(frozen=True)
class SnapshotProblem:
    run: ReportRun
    check: fingerprints.FileCheck


def snapshots_verify(*, chunk_size: int = 200):
    """Hash every kept report of the current country. Yields (number checked so
    far, SnapshotProblem or None) per report."""
    queryset = ReportRun.objects.exclude(sha256="").order_by("requested_at", "pk")
    for number, run in enumerate(queryset.iterator(chunk_size=chunk_size), start=1):
        result = fingerprints.check(
            run.file, expected_sha256=run.sha256, cache_key=_cache_key(run), rehash=True
        )
        yield number, (None if result.ok else SnapshotProblem(run=run, check=result))
