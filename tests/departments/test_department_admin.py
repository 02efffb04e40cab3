"""The city's administrator adds departments in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from departments.models import Department

pytestmark = pytest.mark.django_db
ADD = reverse("admin:departments_department_add")
NO_MAIL = "Health has no contact email: its new reports, forwarded reports and citizens"


def _department(email: str) -> dict[str, object]:
    return {
        "name": "Health",
        "slug": "health",
        "email": email,
        "active": "on",
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
    }


@pytest.mark.parametrize(("email", "warned"), [("", True), ("health@city.example.org", False)])
def test_a_department_without_a_contact_email_is_saved_with_a_warning(
    client, superuser, email, warned
):
    """Its reports were routed to it and no email went anywhere, without a word."""
    client.force_login(superuser)
    response = client.post(ADD, _department(email), follow=True)
    assert response.status_code == 200
    assert Department.objects.get().email == email
    assert (NO_MAIL in response.content.decode()) == warned
