"""Pulling submissions from ODK Central into the register (country schema).

- ``pull``: the run — Central's OData feed page by page, the watermark,
  attachments, review states written back (``sync_country``);
- ``apply``: one stored submission applied to the register — a registration,
  an edit (a correction through stock's correction path, which waits for
  approval where the country wants it), a stock-take check (``process``);
- ``run``: what a run reads once (sites, types, definitions, app users).

Speed (DESIGN.md: at least 100 submissions/s, photos aside, bench/odk_sync.py):
a run reads what doesn't change during it once (sites, item types, custom
field definitions, the app user -> user map, one user object per app user so
Django's permission cache and its store scope are filled once), looks up a
page's known submissions in one query, never re-reads what it just wrote,
applies new registrations up to 50 per transaction with their ledger entries
appended together (``pull._ingest_batch``, ledger.chain.batched), and sends
a page's review states while the next page is applied, recording them in one
UPDATE.
"""

from .apply import EDIT_REASON, parse_register, process
from .pull import sync_country
from .run import Run, SyncReport

__all__ = ["EDIT_REASON", "Run", "SyncReport", "parse_register", "process", "sync_country"]
