"""Fixtures of the reports tests."""

from __future__ import annotations

import pytest

from tests.factories import DepartmentFactory, ServiceFactory
from tests.reports.admin_support import make_world


@pytest.fixture
def world(citizen, superuser):
    """Health and Public Works, an agent of each, Health's manager, a citizen, a superuser and
    a report of Health's."""
    return make_world(citizen, superuser)


# A department and its category, for the tests of a report's follow-up
# (followup_support.py).
@pytest.fixture
def health():
    return DepartmentFactory(name="Health", email="health@city.example.org")


@pytest.fixture
def service(health):
    return ServiceFactory(name="Found syringe", department=health)
