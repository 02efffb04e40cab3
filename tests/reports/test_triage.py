from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from reports.models import RequestUpdate, ResponseTemplate, Service, ServiceRequest, Subscription
from reports.services import triage
from reports.services.photos import photo_moderate
from tests.factories import (
    BoundaryFactory,
    DepartmentFactory,
    PhotoFactory,
    RoutingRuleFactory,
    ServiceFactory,
    ServiceRequestFactory,
    StaffMembershipFactory,
    put_in_state,
    square,
)

pytestmark = pytest.mark.django_db
State = ServiceRequest.State
Kind = RequestUpdate.Kind


@pytest.fixture
def agent(db):
    return StaffMembershipFactory(user__username="agent").user


@pytest.fixture
def report(agent):
    department = agent.memberships.get().department
    return ServiceRequestFactory(service__department=department, department=department)


def timeline(report: ServiceRequest) -> list[tuple[str, bool, str]]:
    return list(report.updates.order_by("pk").values_list("kind", "public", "text"))


@pytest.mark.parametrize(
    ("path", "final_status"),
    [
        ([State.ACKNOWLEDGED, State.IN_PROGRESS, State.FIXED], "closed"),
        ([State.NOT_ACTIONABLE], "closed"),
        ([State.ACKNOWLEDGED, State.REFERRED], "closed"),
        ([State.IN_PROGRESS], "open"),
        ([State.FIXED, State.ACKNOWLEDGED], "open"),
        ([State.FIXED, State.IN_PROGRESS, State.NOT_ACTIONABLE], "closed"),
    ],
)
def test_every_valid_transition_records_author_and_derived_fields(
    report, agent, path, final_status
):
    for state in path:
        triage.report_update(report=report, author=agent, state=state)
    report.refresh_from_db()
    assert report.state == path[-1] and report.status == final_status
    assert (report.closed_datetime is not None) == (final_status == "closed")
    entries = report.updates.filter(kind=Kind.STATE).order_by("pk")
    assert [e.state_to for e in entries] == path
    assert all(e.author == agent and e.public for e in entries)
    assert report.updated_datetime == entries.last().created


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (State.IN_PROGRESS, State.ACKNOWLEDGED),
        (State.ACKNOWLEDGED, State.NEW),
        (State.FIXED, State.NOT_ACTIONABLE),
        (State.NEW, State.DUPLICATE),
        (State.NEW, "nonsense"),
    ],
)
def test_invalid_transition_is_refused_and_nothing_is_written(report, agent, start, target):
    put_in_state(report, start)
    before = report.updates.count()
    with pytest.raises(ValidationError) as info:
        triage.report_update(report=report, author=agent, state=target)
    assert "state" in info.value.message_dict
    report.refresh_from_db()
    assert report.state == start and report.updates.count() == before


def test_public_note_sets_status_notes_and_internal_note_does_not(report, agent):
    triage.report_note_add(
        report=report, author=agent, text="Crew booked for Tuesday.", public=True
    )
    triage.report_note_add(report=report, author=agent, text="Call the contractor.", public=False)
    report.refresh_from_db()
    assert report.status_notes == "Crew booked for Tuesday."
    assert timeline(report)[-2:] == [
        (Kind.NOTE, True, "Crew booked for Tuesday."),
        (Kind.NOTE, False, "Call the contractor."),
    ]


def test_state_change_with_internal_text_keeps_text_off_the_public_entry(report, agent):
    triage.report_update(
        report=report,
        author=agent,
        state=State.ACKNOWLEDGED,
        text="Looks like gang tags.",
        public=False,
    )
    report.refresh_from_db()
    assert report.status_notes == ""
    assert timeline(report)[-2:] == [
        (Kind.STATE, True, ""),
        (Kind.NOTE, False, "Looks like gang tags."),
    ]


def test_empty_reply_is_refused(report, agent):
    with pytest.raises(ValidationError):
        triage.report_update(report=report, author=agent, text="   ")


def test_close_with_template_uses_its_text(report, agent):
    template = ResponseTemplate.objects.create(
        department=report.department, title="Fixed", text="We filled the pothole. Thank you!"
    )
    triage.report_close(report=report, author=agent, state=State.FIXED, template=template)
    report.refresh_from_db()
    assert (report.state, report.status_notes) == (State.FIXED, template.text)


def test_close_refuses_template_of_another_department_or_category(report, agent):
    foreign = ResponseTemplate.objects.create(department=DepartmentFactory(), title="X", text="x")
    other_category = ResponseTemplate.objects.create(
        department=report.department, service=ServiceFactory(), title="Y", text="y"
    )
    for template in (foreign, other_category):
        with pytest.raises(ValidationError):
            triage.report_close(report=report, author=agent, template=template)
    assert ServiceRequest.objects.get(pk=report.pk).state == State.NEW


def test_usable_templates_are_department_templates_of_this_category_or_any(report):
    any_category = ResponseTemplate.objects.create(
        department=report.department, title="A", text="a"
    )
    mine = ResponseTemplate.objects.create(
        department=report.department, service=report.service, title="B", text="b"
    )
    ResponseTemplate.objects.create(
        department=report.department, service=ServiceFactory(), title="C", text="c"
    )
    ResponseTemplate.objects.create(department=report.department, title="D", text="d", active=False)
    assert list(ResponseTemplate.objects.usable_for(report)) == [any_category, mine]


def test_reopen_only_closed_reports(report, agent):
    with pytest.raises(ValidationError):
        triage.report_reopen(report=report, author=agent)
    triage.report_close(
        report=report, author=agent, state=State.NOT_ACTIONABLE, text="Private land."
    )
    triage.report_reopen(report=report, author=agent, text="Owner asked us to help.")
    report.refresh_from_db()
    assert (report.state, report.status, report.closed_datetime) == (
        State.ACKNOWLEDGED,
        "open",
        None,
    )


def test_assign_only_to_staff_of_the_department(report, agent):
    colleague = StaffMembershipFactory(department=report.department).user
    outsider = StaffMembershipFactory().user
    with pytest.raises(ValidationError):
        triage.report_assign(report=report, author=agent, assignee=outsider)
    triage.report_assign(report=report, author=agent, assignee=colleague)
    report.refresh_from_db()
    assert report.assigned_to == colleague
    assert timeline(report)[-1] == (Kind.ASSIGN, False, f"Assigned to {colleague}.")
    triage.report_assign(report=report, author=agent, assignee=None)
    assert ServiceRequest.objects.get(pk=report.pk).assigned_to is None


def test_forward_keeps_history_separates_internal_note_and_notifies(
    report, agent, django_capture_on_commit_callbacks
):
    health = report.department
    works = DepartmentFactory(name="Public Works", email="works@city.example.org")
    colleague = StaffMembershipFactory(department=health).user
    triage.report_assign(report=report, author=agent, assignee=colleague)
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_forward(
            report=report, author=agent, department=works, note="Needle bin is on their sidewalk."
        )
    report.refresh_from_db()
    assert report.department == works and report.assigned_to is None
    forward = report.updates.get(kind=Kind.FORWARD)
    assert forward.public and forward.text == f"Forwarded from {health} to Public Works."
    assert (forward.department_from, forward.department_to) == (health, works)
    assert report.updates.get(kind=Kind.NOTE).public is False
    to_works = [m for m in mail.outbox if m.to == ["works@city.example.org"]]
    assert len(to_works) == 1 and "Needle bin is on their sidewalk." in to_works[0].body


@pytest.mark.parametrize("problem", ["same", "inactive", "closed"])
def test_forward_refusals(report, agent, problem):
    target = report.department
    if problem == "inactive":
        target = DepartmentFactory(active=False)
    if problem == "closed":
        target = DepartmentFactory()
        put_in_state(report, State.FIXED)
    with pytest.raises(ValidationError):
        triage.report_forward(report=report, author=agent, department=target)
    assert not report.updates.filter(kind=Kind.FORWARD).exists()


def test_duplicate_moves_followers_to_master_and_flattens_chains(report, agent):
    master = ServiceRequestFactory(service=report.service, department=report.department)
    Subscription.objects.create(request=master, email="both@example.net")
    moved = Subscription.objects.create(request=report, email="only.dup@example.net")
    both = Subscription.objects.create(request=report, email="both@example.net")
    earlier_dup = ServiceRequestFactory(duplicate_of=report, state=State.DUPLICATE)
    triage.report_close_as_duplicate(report=report, author=agent, master=master, text="Same tree.")
    report.refresh_from_db()
    assert (report.state, report.status, report.duplicate_of) == (State.DUPLICATE, "closed", master)
    assert report.status_notes == f"Closed as a duplicate of report #{master.pk}. Same tree."
    moved.refresh_from_db()
    both.refresh_from_db()
    assert moved.request == master and moved.active
    assert both.request == report and not both.active
    assert ServiceRequest.objects.get(pk=earlier_dup.pk).duplicate_of == master


def test_duplicate_of_itself_or_a_loop_is_refused(report, agent):
    with pytest.raises(ValidationError, match="itself"):
        triage.report_close_as_duplicate(report=report, author=agent, master=report)
    other = ServiceRequestFactory(service=report.service, department=report.department)
    put_in_state(other, State.DUPLICATE, master=report)
    with pytest.raises(ValidationError, match="duplicate of this report"):
        triage.report_close_as_duplicate(report=report, author=agent, master=other)
    report.refresh_from_db()
    assert report.state == State.NEW and report.duplicate_of is None


def test_moderation_needs_a_reason_and_hides_from_public(report, agent):
    with pytest.raises(ValidationError):
        triage.report_moderate(
            report=report, author=agent, hidden=True, description_redacted=False, reason=""
        )
    triage.report_moderate(
        report=report,
        author=agent,
        hidden=False,
        description_redacted=True,
        reason="Phone number in text",
    )
    report.refresh_from_db()
    assert report.public_description == "[Description removed by moderator]"
    triage.report_moderate(
        report=report, author=agent, hidden=True, description_redacted=True, reason="Abusive"
    )
    assert not ServiceRequest.objects.public().filter(pk=report.pk).exists()
    assert timeline(report)[-1] == (Kind.MODERATION, False, "Report hidden: Abusive")


def test_moderation_reason_too_long_is_refused_not_cut(report, agent):
    photo = PhotoFactory(request=report, state="processed")
    with pytest.raises(ValidationError) as info:
        triage.report_moderate(
            report=report, author=agent, hidden=True, description_redacted=False, reason="x" * 256
        )
    assert "reason" in info.value.message_dict
    with pytest.raises(ValidationError):
        photo_moderate(photo=photo, author=agent, hidden=True, reason="x" * 256)
    report.refresh_from_db()
    photo.refresh_from_db()
    assert not report.hidden and not photo.hidden


def test_photo_moderation_hides_one_photo(report, agent):
    photo = PhotoFactory(request=report, state="processed")
    photo_moderate(photo=photo, author=agent, hidden=True, reason="Face visible")
    photo.refresh_from_db()
    assert photo.hidden and not photo.is_public and photo.hidden_reason == "Face visible"
    with pytest.raises(ValidationError):
        photo_moderate(photo=photo, author=agent, hidden=True, reason="again")


def test_recategorise_reroutes_recomputes_target_and_records(
    report, agent, django_capture_on_commit_callbacks
):
    parks = DepartmentFactory(name="Parks", email="parks@city.example.org")
    tree = ServiceFactory(name="Fallen tree", sla_hours=24, department=DepartmentFactory())
    area = BoundaryFactory(geometry=square(35.77, -78.65, 35.79, -78.63))
    RoutingRuleFactory(service=tree, boundary=area, department=parks)
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_recategorise(report=report, author=agent, service=tree)
    report.refresh_from_db()
    assert (report.service, report.department, report.area) == (tree, parks, area)
    assert report.expected_datetime == report.requested_datetime + timedelta(hours=24)
    kinds = [k for k, _public, _text in timeline(report)]
    assert kinds[-2:] == [Kind.ROUTED, Kind.FORWARD]
    assert any(m.to == ["parks@city.example.org"] for m in mail.outbox)
    with pytest.raises(ValidationError):
        triage.report_recategorise(report=report, author=agent, service=tree)


def test_public_update_emails_each_follower_once(report, agent, django_capture_on_commit_callbacks):
    now = timezone.now()
    Subscription.objects.create(request=report, email="a@example.net", confirmed_at=now)
    Subscription.objects.create(request=report, email="b@example.net", confirmed_at=now)
    Subscription.objects.create(request=report, email="unconfirmed@example.net")
    Subscription.objects.create(
        request=report, email="gone@example.net", active=False, confirmed_at=now
    )
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_note_add(report=report, author=agent, text="Internal only", public=False)
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_update(report=report, author=agent, state=State.FIXED, text="Fixed today.")
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.net", "b@example.net"]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mail.outbox)


def test_overdue_queue_tracks_target(report):
    ServiceRequest.objects.filter(pk=report.pk).update(
        expected_datetime=timezone.now() - timedelta(hours=1)
    )
    assert list(ServiceRequest.objects.overdue()) == [report]


def test_recategorising_a_closed_report_is_refused(report, agent):
    triage.report_update(report=report, author=agent, state=State.NOT_ACTIONABLE)
    other = ServiceFactory(department=DepartmentFactory())
    with pytest.raises(ValidationError) as excinfo:
        triage.report_recategorise(report=report, author=agent, service=other)
    assert "Reopen" in str(excinfo.value)
    report.refresh_from_db()
    assert report.service != other and report.department == agent.memberships.get().department


def test_recategorising_to_an_inactive_department_is_refused(report, agent):
    gone = DepartmentFactory(name="Old Parks", active=False)
    other = ServiceFactory(department=gone)  # as it was before a category needed an active one
    with pytest.raises(ValidationError, match="Old Parks is inactive"):
        triage.report_recategorise(report=report, author=agent, service=other)
    report.refresh_from_db()
    assert report.service != other and report.department == agent.memberships.get().department


def test_a_department_with_active_categories_stays_active_and_the_reverse(report):
    department = report.department
    service = ServiceFactory(department=department, name="Tree down")
    department.active = False
    with pytest.raises(
        ValidationError, match="Its active categories still come to it: .*Tree down"
    ):
        department.full_clean()
    Service.objects.filter(department=department).update(active=False)
    department.full_clean()
    department.save()
    service.refresh_from_db()
    service.active = True
    with pytest.raises(ValidationError, match="is inactive: an active category needs"):
        service.full_clean()


def test_a_closed_report_cannot_be_closed_again_as_duplicate(report, agent):
    triage.report_update(report=report, author=agent, state=State.NOT_ACTIONABLE)
    closed_at = ServiceRequest.objects.get(pk=report.pk).closed_datetime
    master = ServiceRequestFactory(service=report.service, department=report.department)
    with pytest.raises(ValidationError) as excinfo:
        triage.report_close_as_duplicate(report=report, author=agent, master=master)
    assert "Reopen" in str(excinfo.value)
    report.refresh_from_db()
    assert report.state == State.NOT_ACTIONABLE and report.closed_datetime == closed_at


def test_a_hidden_report_cannot_be_the_master(report, agent):
    master = ServiceRequestFactory(
        service=report.service, department=report.department, hidden=True
    )
    with pytest.raises(ValidationError) as excinfo:
        triage.report_close_as_duplicate(report=report, author=agent, master=master)
    assert "hidden" in str(excinfo.value)
    report.refresh_from_db()
    assert report.state == State.NEW and report.duplicate_of is None


def test_duplicate_of_a_duplicate_points_at_the_original(report, agent):
    original = ServiceRequestFactory(service=report.service, department=report.department)
    middle = ServiceRequestFactory(service=report.service, department=report.department)
    triage.report_close_as_duplicate(report=middle, author=agent, master=original)
    triage.report_close_as_duplicate(report=report, author=agent, master=middle)
    report.refresh_from_db()
    assert report.duplicate_of == original
    assert f"#{original.pk}" in report.status_notes


def test_a_reopened_duplicate_names_no_master_any_more(report, agent):
    master = ServiceRequestFactory(service=report.service, department=report.department)
    triage.report_close_as_duplicate(report=report, author=agent, master=master)
    triage.report_update(
        report=report, author=agent, state=State.ACKNOWLEDGED, text="Not the same."
    )
    report.refresh_from_db()
    assert (report.state, report.duplicate_of) == (State.ACKNOWLEDGED, None)
    # A report of its own again: one closed as its duplicate points at it, not its old master.
    later = ServiceRequestFactory(service=report.service, department=report.department)
    triage.report_close_as_duplicate(report=later, author=agent, master=report)
    later.refresh_from_db()
    assert later.duplicate_of == report and f"#{report.pk}" in later.status_notes
    triage.report_close_as_duplicate(report=master, author=agent, master=report)  # no loop now
