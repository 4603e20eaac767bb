"""ODK services that call Central and record what it made: a run that breaks
off midway (Central fails, or our record of a call is lost) leaves our
records matching Central, and running again finishes the work without making
anything twice in Central."""

import pytest

from odk import crypto, services
from odk.central import CENTRAL_ERRORS
from odk.models import AppUser, CentralConnection, FormVersion, ItemEntity
from tests.factories import DEFAULT_PASSWORD
from tests.stock.conftest import register

from .fake_central import PASSWORD, USERNAME

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(reg, fake):
    services.connection_save(
        actor=reg.admin,
        base_url=fake.url,
        username=USERNAME,
        password=PASSWORD,
        current_password=DEFAULT_PASSWORD,
    )
    services.project_create(actor=reg.admin)
    services.forms_publish(actor=reg.admin)
    return reg


def _assert_app_users_match_central(fake):
    pid = CentralConnection.objects.get().project_id
    for app_user in AppUser.objects.all():
        remote = fake.app_users[app_user.central_id]
        assert remote["displayName"] == app_user.display_name
        assert crypto.decrypt(app_user.token_encrypted) == remote["token"]
    recorded = {
        (pid, form_id, a.central_id) for a in AppUser.objects.all() for form_id in a.assigned_forms
    }
    assert recorded == fake.assignments


def test_app_users_sync_broken_off_by_central_finishes_on_the_next_run(published, fake):
    reg = published
    form_ids = set(FormVersion.objects.values_list("xml_form_id", flat=True))
    # Central fails the second app user's creation.
    fake.fail("POST", r"/app-users$", after=1)
    with pytest.raises(CENTRAL_ERRORS):
        services.app_users_sync(actor=reg.admin)
    assert AppUser.objects.count() == 1 and len(fake.app_users) == 1
    _assert_app_users_match_central(fake)

    services.app_users_sync(actor=reg.admin)
    assert len(fake.app_users) == 2
    assert {a.user_id for a in AppUser.objects.all()} == {reg.manager_x.pk, reg.manager_y.pk}
    assert all(set(a.assigned_forms) == form_ids for a in AppUser.objects.all())
    _assert_app_users_match_central(fake)

    # A record lost after Central made the app user (as if our write had
    # failed): the next run finds it in Central by name instead of making another.
    lost = AppUser.objects.get(user=reg.manager_y)
    AppUser.objects.filter(pk=lost.pk).delete()
    services.app_users_sync(actor=reg.admin)
    assert len(fake.app_users) == 2
    assert AppUser.objects.get(user=reg.manager_y).central_id == lost.central_id
    _assert_app_users_match_central(fake)


def test_project_forms_and_entities_are_not_made_twice_when_records_are_lost(reg, fake):
    services.connection_save(
        actor=reg.admin,
        base_url=fake.url,
        username=USERNAME,
        password=PASSWORD,
        current_password=DEFAULT_PASSWORD,
    )
    services.project_create(actor=reg.admin)
    pid = CentralConnection.objects.get().project_id
    CentralConnection.objects.update(project_id=None)
    services.project_create(actor=reg.admin)
    assert len(fake.projects) == 1 and CentralConnection.objects.get().project_id == pid

    # Central fails between a form's creation (a draft) and its publication.
    fake.fail("POST", r"/draft/publish$")
    with pytest.raises(CENTRAL_ERRORS):
        services.forms_publish(actor=reg.admin)
    assert not FormVersion.objects.filter(published_at__isnull=False).exists()
    published = services.forms_publish(actor=reg.admin)
    assert len(published) == 2
    assert {(fid, f["version"]) for (_p, fid), f in fake.forms.items()} == set(
        FormVersion.objects.values_list("xml_form_id", "version")
    )
    # Published in Central, the record lost: the next run publishes nothing again.
    FormVersion.objects.update(published_at=None)
    services.forms_publish(actor=reg.admin)
    assert all(len(f["versions"]) == 1 for f in fake.forms.values())
    assert not FormVersion.objects.filter(published_at__isnull=True).exists()

    item = register(reg)
    assert services.entities_push() == 1
    ItemEntity.objects.filter(item=item).update(in_central=False, pushed={})
    assert services.entities_push() == 1
    [(uuid, entity)] = fake.entities[(pid, "items")].items()
    assert uuid == str(ItemEntity.objects.get(item=item).entity_uuid)
    assert entity["data"]["sms_number"] == item.sms_number


def test_the_items_list_is_created_in_bulk_and_a_broken_off_batch_is_not_doubled(
    published, fake, monkeypatch
):
    pid = CentralConnection.objects.get().project_id
    items = [register(published) for _ in range(5)]
    monkeypatch.setattr(services, "ENTITY_BATCH", 2)

    def entity_posts():
        return sum(1 for m, path in fake.requests if m == "POST" and path.endswith("/entities"))

    assert services.entities_push() == 5
    # Three bulk requests (2 + 2 + 1), not one per item.
    assert fake.bulk_creates == 3 and entity_posts() == 3
    store = fake.entities[(pid, "items")]
    assert set(store) == {str(link.entity_uuid) for link in ItemEntity.objects.all()}
    assert {e["data"]["sms_number"] for e in store.values()} == {i.sms_number for i in items}
    assert services.entities_push() == 0  # nothing changed, nothing sent

    # Central took a batch but our record of it was lost: the bulk call is
    # refused (409, nothing created), the batch goes one by one, nothing doubles.
    ItemEntity.objects.filter(item__in=items[:2]).update(in_central=False, pushed={})
    assert services.entities_push() == 2
    assert len(store) == 5
    assert ItemEntity.objects.filter(in_central=True).count() == 5

    # An entity whose values changed is updated in place (a new version).
    ItemEntity.objects.filter(item=items[4]).update(pushed={})
    assert services.entities_push() == 1
    assert store[str(ItemEntity.objects.get(item=items[4]).entity_uuid)]["version"] == 2
    assert len(store) == 5
