"""stock.scope is the one place that reads a user's site scope: what it
answers for reports (ids, "covers these sites"), and no other module reads
``all_sites`` (administration's user management sets it)."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stock.scope import (
    can_see_site,
    remember_scope,
    sees_all_sites,
    sees_sites,
    visible_site_ids,
)
from tests.factories import make_user

pytestmark = pytest.mark.django_db

BASE = Path(settings.BASE_DIR)
# Modules allowed to touch ``all_sites``: the scope itself; administration,
# which sets a person's scope; the demos, which create their users with it.
ALLOWED = ("stock/scope.py", "administration/", "provisioning/demo.py", "stock/demo.py")
APPS = [
    "accounts",
    "administration",
    "audit",
    "core",
    "custody",
    "odk",
    "provisioning",
    "reporting",
    "sms_platform",
    "stock",
    "tenants",
]


def test_scope_answers_for_reports(reg):
    assert visible_site_ids(reg.hq) is None and sees_all_sites(reg.hq)
    assert visible_site_ids(reg.manager_x) == frozenset({reg.site_x.pk})
    assert not sees_all_sites(reg.manager_x)
    # A whole-country document (None) is for users who see every site only.
    assert sees_sites(reg.hq, None) and not sees_sites(reg.manager_x, None)
    assert sees_sites(reg.manager_x, [reg.site_x.pk])
    assert not sees_sites(reg.manager_x, [reg.site_x.pk, reg.site_y.pk])
    reg.hq.is_active = False
    assert visible_site_ids(reg.hq) == frozenset() and not sees_sites(reg.hq, [])
    assert not sees_all_sites(make_user(sites=[]))


def test_no_module_reads_all_sites_but_the_scope():
    offenders = []
    for app in APPS:
        for path in (BASE / app).rglob("*.py"):
            relative = path.relative_to(BASE).as_posix()
            if "migrations" in path.parts or relative.startswith(ALLOWED):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                read = (
                    isinstance(node, ast.Attribute)
                    and node.attr == "all_sites"
                    and isinstance(node.ctx, ast.Load)
                ) or (isinstance(node, ast.Constant) and node.value == "all_sites")
                if read:
                    offenders.append(f"{relative}:{node.lineno}")
    assert not offenders, "Read the scope through stock.scope:\n" + "\n".join(offenders)


def test_a_remembered_scope_answers_without_a_query_and_the_same(reg):
    # stock.scope.remember_scope: a batch job's user object (the ODK sync's,
    # for one run) keeps its sites, as Django keeps its permissions.
    users = (reg.hq, reg.manager_x, reg.manager_y)
    expected = {
        (user.pk, site.pk): can_see_site(user, site)
        for user in users
        for site in (reg.site_x, reg.site_y)
    }
    assert expected[(reg.manager_x.pk, reg.site_y.pk)] is False
    assert expected[(reg.hq.pk, reg.site_y.pk)] is True
    for user in users:
        remember_scope(user)
    with CaptureQueriesContext(connection) as queries:
        remembered = {
            (user.pk, site.pk): can_see_site(user, site)
            for user in users
            for site in (reg.site_x, reg.site_y)
        }
    assert remembered == expected and len(queries) == 0
    # A deactivated account sees nothing, remembered or not.
    reg.manager_x.is_active = False
    assert not can_see_site(reg.manager_x, reg.site_x)
