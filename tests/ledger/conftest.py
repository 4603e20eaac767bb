"""Ledger fixtures: the stock register of tests.custody (country XA, sites X
and Y, their managers, HQ, an administrator and an auditor)."""

from tests.custody.conftest import _media_in_tmp, reg, register  # noqa: F401
