"""Every PDF SMS issues carries a signed ledger checkpoint and the signing
key's fingerprint at the foot of its pages: read back from the PDF's text, the
checkpoint verifies."""

import io

import pytest
from pypdf import PdfReader

from ledger import checkpoints, signing
from reporting.documents import build
from reporting.exports import render
from tests.custody.conftest import dispatch, draft, tusks
from tests.ledger.helpers import tamper

pytestmark = pytest.mark.django_db

SUMMARY = {
    "start": "2026-01-01",
    "end": "2026-12-31",
    "group_by": ["site"],
    "site": "",
    "category": "",
    "item_type": "",
    "source": "",
}


def _text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def login(client, host_a):
    def _login(user):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host_a
        return client

    return _login


def test_the_manifest_carries_a_checkpoint_that_verifies(reg, login):
    transfer = dispatch(reg, draft(reg, tusks(reg, 2)))
    pdf = login(reg.manager_x).get(f"/transfers/{transfer.pk}/manifest.pdf").content
    for page in _text(pdf):
        checkpoint = checkpoints.parse(page)
        assert checkpoint.country == "XA"
        assert signing.fingerprint() in page
        result = checkpoints.check(checkpoint)
        assert result.ok, result.message
    # It is where the chain ended when the manifest was printed.
    assert checkpoint.sequence == checkpoints.take().sequence


def test_reports_and_declarations_carry_a_checkpoint_on_every_page(reg):
    tusks(reg, 3)
    for kind, params in (("summary", SUMMARY), ("cites", {"cites_kind": "ivory", "year": 2026})):
        document = build(kind, params, user=reg.hq)
        pages = _text(render(document, "pdf"))
        assert pages
        for page in pages:
            assert checkpoints.parse(page) == document.checkpoint
            assert signing.fingerprint() in page
        assert checkpoints.check(document.checkpoint).ok


def test_a_pdf_says_so_when_the_ledger_end_does_not_verify(reg):
    tusks(reg, 1)
    tamper("UPDATE custody_ledgerhead SET last_hash = %s WHERE id = 1", ["f" * 64])
    document = build("summary", SUMMARY, user=reg.hq)
    (page, *_rest) = _text(render(document, "pdf"))
    assert "No custody ledger checkpoint" in page
    with pytest.raises(checkpoints.CheckpointInvalid):
        checkpoints.parse(page)
