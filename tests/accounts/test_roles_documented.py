"""The README's roles table is the documented permission set of each role:
it must say exactly what accounts/roles.py grants."""

import re
from pathlib import Path

import pytest
from django.utils import translation

from accounts.roles import ROLES

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("role", ROLES.values(), ids=lambda role: role.key)
def test_readme_lists_exactly_the_permissions_of_each_role(role):
    with translation.override("en"):
        label = str(role.label)
    section = README.read_text().split("## Roles and permissions", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith(f"| {label} |")]
    assert len(rows) == 1, f"README has no single roles-table row for {label!r}"
    documented = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", rows[0]))
    assert documented == set(role.permissions)
