"""A batch of entries (ledger.chain.append_many, the register import's
registrations): the same chain as one append at a time, and every listener
hears every entry in order, as a batch or one by one."""

import pytest
from django.db import transaction

from ledger import chain, listeners
from ledger.models import LedgerEntry, LedgerHead
from tests.custody.conftest import register

pytestmark = pytest.mark.django_db


def test_a_batch_links_signs_and_moves_the_head_like_single_appends(reg):
    first = register(reg)
    with transaction.atomic():
        entries = chain.append_many(
            [
                chain.NewEntry(
                    event=chain.Event.REGISTERED, site=reg.site_x, item=first.pk, payload={"n": n}
                )
                for n in range(3)
            ],
            actor=reg.manager_x,
        )
    sequences = [e.sequence for e in entries]
    assert sequences == [sequences[0], sequences[0] + 1, sequences[0] + 2]
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    head = LedgerHead.objects.get(pk=1)
    assert (head.last_sequence, head.last_hash) == (entries[-1].sequence, entries[-1].hash)
    assert LedgerEntry.objects.filter(sequence__in=sequences).count() == 3
    assert chain.verify_chain(full=True).ok


def test_listeners_hear_each_entry_of_a_batch_in_order(reg):
    item = register(reg)
    one_by_one, batches = [], []
    single = listeners.register(lambda e: one_by_one.append(e.sequence), name="tests.single")
    many = listeners.register(
        lambda e: one_by_one.append(("single", e.sequence)),
        name="tests.many",
        many=lambda entries: batches.append([e.sequence for e in entries]),
    )
    try:
        with transaction.atomic():
            entries = chain.append_many(
                [chain.NewEntry(event="registered", item=item.pk) for _ in range(2)],
                actor=reg.manager_x,
            )
    finally:
        listeners.unregister(single)
        listeners.unregister(many)
    sequences = [e.sequence for e in entries]
    assert one_by_one == sequences
    assert batches == [sequences]


def test_a_batch_of_an_unknown_event_is_refused(reg):
    with transaction.atomic(), pytest.raises(ValueError, match="unknown ledger event"):
        chain.append_many([chain.NewEntry(event="teleported")], actor=reg.manager_x)
