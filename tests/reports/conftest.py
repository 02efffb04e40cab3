"""Fixtures of the reports tests."""

from __future__ import annotations

import pytest

from tests.reports.admin_support import make_world


@pytest.fixture
def world(citizen, superuser):
    """Health and Public Works, an agent of each, Health's manager, a citizen, a superuser and
    a report of Health's."""
    return make_world(citizen, superuser)
