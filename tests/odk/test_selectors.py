"""The ODK review queue has the site scope of everything tied to a store: a
submission belongs to the store its ``site`` answer names (as corrected); an
administrator limited to some stores sees only theirs, and one naming no
known store only by those who see every site."""

import pytest

from accounts.roles import SMS_ADMINISTRATOR
from odk.models import Submission
from odk.sync import sync_country
from odk.xlsforms import REGISTER_FORM_ID
from tests.factories import make_user

from .conftest import register_values


@pytest.fixture
def queue(connected, fake):
    """Three submissions the register refused (weight 0): one of store X, one
    of store Y, one naming a store that does not exist."""
    for app_user, site in (
        (connected.app_x, "site-x"),
        (connected.app_y, "site-y"),
        (connected.app_x, "no-such-store"),
    ):
        fake.submit(
            REGISTER_FORM_ID,
            register_values(site=site, weight_kg=0),
            submitter_id=app_user.central_id,
        )
    sync_country()
    by_site = {s.data["site"]: s for s in Submission.objects.all()}
    assert all(s.status == Submission.Status.NEEDS_REVIEW for s in by_site.values())
    connected.sub_x = by_site["site-x"]
    connected.sub_y = by_site["site-y"]
    connected.sub_nowhere = by_site["no-such-store"]
    connected.admin_x = make_user(role=SMS_ADMINISTRATOR, sites=[connected.site_x])
    return connected


@pytest.fixture
def as_user(client, host_a):
    def _as(user):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host_a
        return client

    return _as


def listed(response) -> set:
    return {s.pk for s in response.context["submissions"]}


def test_a_one_store_administrator_sees_only_their_stores_submissions(queue, as_user):
    client = as_user(queue.admin_x)
    response = client.get("/odk/review/")
    assert response.status_code == 200
    assert listed(response) == {queue.sub_x.pk}
    assert client.get(f"/odk/review/{queue.sub_x.pk}/").status_code == 200
    # Another store's submission, and one of no known store: not found.
    assert client.get(f"/odk/review/{queue.sub_y.pk}/").status_code == 404
    assert client.get(f"/odk/review/{queue.sub_nowhere.pk}/").status_code == 404
    # ...nor corrected or rejected from outside.
    response = client.post(
        f"/odk/review/{queue.sub_y.pk}/", {"action": "reject", "reason": "Not mine"}
    )
    assert response.status_code == 404
    queue.sub_y.refresh_from_db()
    assert queue.sub_y.status == Submission.Status.NEEDS_REVIEW
    # The ODK page counts only their queue.
    assert client.get("/odk/").context["queue_count"] == 1


def test_an_administrator_of_every_site_sees_the_whole_queue(queue, as_user):
    client = as_user(queue.admin)
    response = client.get("/odk/review/")
    assert listed(response) == {queue.sub_x.pk, queue.sub_y.pk, queue.sub_nowhere.pk}
    assert client.get(f"/odk/review/{queue.sub_nowhere.pk}/").status_code == 200
    assert client.get("/odk/").context["queue_count"] == 3


def test_a_corrected_store_moves_the_submission_to_that_store(queue, as_user):
    # The administrator of every site corrects the store code to X's...
    admin = as_user(queue.admin)
    admin.post(
        f"/odk/review/{queue.sub_nowhere.pk}/",
        {"action": "correct", "value_site": "site-x", "value_weight_kg": "0"},
    )
    queue.sub_nowhere.refresh_from_db()
    assert queue.sub_nowhere.status == Submission.Status.NEEDS_REVIEW  # weight still 0
    # ...and X's administrator now has it in their queue.
    scoped = as_user(queue.admin_x)
    assert listed(scoped.get("/odk/review/")) == {queue.sub_x.pk, queue.sub_nowhere.pk}
