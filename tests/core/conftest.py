"""Fixtures of the shared helpers' tests: the stock register of tests.stock
(country XA, stores X and Y, a store manager per store, HQ, an administrator)."""

import pytest

from tests.stock.conftest import _media_in_tmp, make_register  # noqa: F401


@pytest.fixture
def reg(in_country_a):
    return make_register()
