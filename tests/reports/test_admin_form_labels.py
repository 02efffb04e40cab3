"""The triage and bulk pages' forms as assistive technology reads them (WCAG 2.1 1.3.1, 3.3.2):
every input named by its label, and a group of radio buttons or check boxes named by the legend
of its fieldset, with its help and its error tied to it."""

from __future__ import annotations

import pytest

from tests.factories import PhotoFactory
from tests.reports.admin_support import change_url, login
from tests.reports.html_support import Element, by_id, parse

pytestmark = pytest.mark.django_db


def group_of(root: Element, input_id: str) -> Element:
    """The fieldset holding the input."""
    field = by_id(root, input_id)
    assert field is not None, input_id
    fieldset = next((e for e in field.ancestors() if e.tag == "fieldset"), None)
    assert fieldset is not None, f"{input_id} is in no fieldset: its group has no name"
    return fieldset


def legend_of(fieldset: Element) -> str:
    legends = [child for child in fieldset.children if child.tag == "legend"]
    assert legends, "the fieldset has no legend"
    return legends[0].text


def test_the_moderate_pages_photo_boxes_are_named_by_their_group(client, world):
    """A screen reader read "Photo 1, check box" without saying that ticking hides it."""
    PhotoFactory(request=world["report"])
    page = login(client, world, "agent_a").get(change_url(world["report"], "moderate"))
    assert page.status_code == 200
    root = parse(page.content.decode())

    assert legend_of(group_of(root, "id_hidden_photos_0")) == "Hidden photos:"


def test_the_reply_pages_audience_is_a_named_group_with_its_help_and_error(client, world):
    """The reply page (shown again with its errors) labelled the audience's radio buttons with
    a label that named no input, and tied neither the help nor the error to them."""
    login(client, world, "agent_a")
    response = client.post(change_url(world["report"], "reply"), {"text": "Police informed."})
    assert response.status_code == 200
    root = parse(response.content.decode())

    fieldset = group_of(root, "id_visibility_0")
    assert fieldset is group_of(root, "id_visibility_1")
    assert legend_of(fieldset) == "Who sees the message:"
    described = fieldset.attrs.get("aria-describedby", "").split()
    assert set(described) == {"id_visibility_helptext", "id_visibility_error"}
    assert "Choose one whenever" in by_id(root, "id_visibility_helptext").text
    assert "Choose who sees this message" in by_id(root, "id_visibility_error").text


def test_the_report_pages_audience_help_describes_its_group(client, world):
    root = parse(login(client, world, "agent_a").get(change_url(world["report"])).content.decode())
    fieldset = group_of(root, "id_visibility_0")
    assert legend_of(fieldset) == "Who sees the message"
    help_id = fieldset.attrs.get("aria-describedby")
    assert help_id and "Choose one whenever" in by_id(root, help_id).text
