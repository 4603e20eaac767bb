"""The evidence check of one country (country schema).

Checks, every byte and with no remembered result: the custody ledger (its
public verify function), every item photo against its recorded SHA-256
(stock.evidence) and every kept report snapshot against its hash
(reporting.evidence). Each mismatch is named. ``manage.py verify_evidence``
runs it for one country or all; Celery beat runs it every night in each
country (administration.tasks) and e-mails the country's administrators when
something does not verify.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

# The ledger's public verify function (the ledger may move to an app of its
# own: only this import follows it).
from core import display
from ledger.chain import verify_chain
from ledger.checkpoints import CheckpointUnavailable, take_and_keep
from reporting.evidence import snapshots_verify
from stock.evidence import MISSING, photos_verify
from stock.ledger_check import items_verify
from tenants.current import country_zone

from . import selectors

logger = logging.getLogger(__name__)


@dataclass
class EvidenceReport:
    country_code: str
    ledger_ok: bool = True
    ledger_checked: int = 0
    ledger_problem: str = ""
    items_checked: int = 0
    photos_checked: int = 0
    reports_checked: int = 0
    # One line per mismatch, naming the record and its file.
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.ledger_ok and not self.problems

    def summary(self) -> str:
        return _(
            "%(code)s: ledger %(ledger)s (%(entries)s entries), %(items)s items against "
            "the ledger, %(photos)s photos and %(reports)s report snapshots checked, "
            "%(problems)s problem(s)."
        ) % {
            "code": self.country_code,
            "ledger": _("intact") if self.ledger_ok else _("BROKEN"),
            "entries": self.ledger_checked,
            "items": self.items_checked,
            "photos": self.photos_checked,
            "reports": self.reports_checked,
            "problems": len(self.problems) + (0 if self.ledger_ok else 1),
        }

    def lines(self) -> list[str]:
        lines = [] if self.ledger_ok else [self.ledger_problem]
        return lines + self.problems


def _file_problem(check) -> str:
    if check.status == MISSING:
        return _("the file is missing")
    return _(
        "the file does not match its recorded SHA-256 (recorded %(expected)s, now %(actual)s)"
    ) % {
        "expected": check.expected_sha256,
        "actual": check.actual_sha256,
    }


def _item_problem(mismatch) -> str:
    item = mismatch.sms_number or mismatch.item_id
    if mismatch.unregistered:
        return _(
            "Item %(item)s: the custody ledger has no registration of it "
            "(it was written around SMS)"
        ) % {"item": item}
    if mismatch.gone:
        return _("Item %(item)s: registered in the custody ledger, but its record is gone") % {
            "item": item
        }
    return _(
        "Item %(item)s: its %(field)s is %(recorded)s, but the custody ledger says "
        "%(expected)s (changed without a ledger entry)"
    ) % {
        "item": item,
        "field": mismatch.field,
        "recorded": _blank(mismatch.recorded),
        "expected": _blank(mismatch.expected),
    }


def _blank(value) -> str:
    return _("(none)") if value in (None, "") else str(value)


def evidence_verify(*, country_code: str) -> EvidenceReport:
    """Check the evidence of the country whose schema the connection is on."""
    report = EvidenceReport(country_code=country_code)
    # The whole chain, every signature: no remembered result (the cache's note
    # of the last complete check is for the pages, not for the evidence check).
    ledger = verify_chain(full=True)
    report.ledger_checked = ledger.checked
    if ledger.ok:
        # Where the chain ends now, kept outside the database: the next check
        # fails if it is ever cut before it (ledger.witness).
        try:
            take_and_keep()
        except CheckpointUnavailable:
            pass
    else:
        report.ledger_ok = False
        report.ledger_problem = _("Custody ledger broken at entry %(sequence)s: %(message)s") % {
            "sequence": ledger.problem.sequence,
            "message": ledger.problem.message,
        }
    report.items_checked, mismatches = items_verify()
    report.problems.extend(_item_problem(mismatch) for mismatch in mismatches)
    for number, problem in photos_verify():
        report.photos_checked = number
        if problem is not None and problem.derived is not None:
            photo, derived = problem.photo, problem.derived
            report.problems.append(
                _(
                    "The %(kind)s of photo %(photo)s of item %(item)s (%(file)s): %(problem)s; "
                    "it is made again from the original when next shown"
                )
                % {
                    "kind": derived.get_kind_display(),
                    "photo": photo.pk,
                    "item": photo.item.sms_number,
                    "file": derived.name,
                    "problem": _file_problem(problem.check),
                }
            )
        elif problem is not None:
            photo = problem.photo
            report.problems.append(
                _("Photo %(photo)s of item %(item)s (%(file)s): %(problem)s")
                % {
                    "photo": photo.pk,
                    "item": photo.item.sms_number,
                    "file": photo.file.name,
                    "problem": _file_problem(problem.check),
                }
            )
    for number, problem in snapshots_verify():
        report.reports_checked = number
        if problem is not None:
            run = problem.run
            report.problems.append(
                _("Report %(run)s “%(title)s” (%(file)s): %(problem)s")
                % {
                    "run": run.pk,
                    "title": run.title,
                    "file": run.file.name,
                    "problem": _file_problem(problem.check),
                }
            )
    return report


def evidence_notify(*, country, report: EvidenceReport) -> int:
    """E-mail the country's administrators what did not verify; nothing when
    everything did. Returns the number of recipients."""
    if report.ok:
        return 0
    recipients = selectors.administrator_addresses()
    if not recipients:
        logger.error(
            "Evidence check of %s failed and no administrator has an e-mail address", country.code
        )
        return 0
    with translation.override(country.default_language or settings.LANGUAGE_CODE):
        subject = _("Evidence check of %(country)s: %(count)s problem(s)") % {
            "country": country.name,
            "count": len(report.lines()),
        }
        body = (
            _(
                "The nightly evidence check of %(country)s at %(time)s found records "
                "whose files or ledger entries no longer match what was recorded:"
            )
            % {"country": country.name, "time": display.when(timezone.now(), zone=country_zone())}
            + "\n\n"
            + "\n".join(f"- {line}" for line in report.lines())
            + "\n\n"
            + _(
                "Photos and reports whose files do not match are no longer shown or "
                "handed out. Restore the files from a backup, or find out who changed "
                "them; `manage.py verify_evidence --country %(code)s` checks again."
            )
            % {"code": country.code}
            + "\n"
        )
    # Sent now: this runs in a task, not inside a transaction that could roll back.
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    return len(recipients)
