"""Citizen pages after a report is filed: the reporter's preview, the answer to "Is it
fixed?", and comments. The reporter has no account: a signed link (reports/tokens.py) is
the key, checked here; the services check the report's state under its lock."""

from __future__ import annotations

from math import ceil
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.views import View

from civic311.ratelimit import rate_limit
from reports import rules
from reports.forms_followup import CommentForm, FixedForm, NotFixedForm, PreviewEditForm
from reports.ids import parse_id
from reports.models import ServiceRequest
from reports.rules import FixedAnswer
from reports.services.comments import comment_add
from reports.services.followup import (
    report_fixed_confirm,
    report_fixed_deny,
    report_preview_edit,
    report_preview_extend,
    report_preview_photo_remove,
    report_publish,
)
from reports.tokens import LinkInvalid, fixed_token_read, preview_token_read
from reports.views import ReportDetailView


@method_decorator(rate_limit("followup", setting="RATELIMIT_FOLLOWUP"), name="dispatch")
class ReportPreviewView(ReportDetailView):
    """The report exactly as it will be published (no contact data), with the reporter's
    controls: edit the text, remove a photo, ask for more time, publish now. Once the
    window has ended the link leads to the public page."""

    def get_queryset(self) -> Any:
        return (
            ServiceRequest.objects.filter(hidden=False).with_public_related().with_public_timeline()
        )

    def get_object(self, queryset: Any = None) -> ServiceRequest:
        try:
            report_id = preview_token_read(self.kwargs["token"])
        except LinkInvalid as exc:
            raise Http404("This link is not valid.") from exc
        if report_id != self.kwargs["pk"]:
            raise Http404("This link is not valid.")
        return get_object_or_404(self.get_queryset(), pk=report_id)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        if not rules.in_preview(self.object, now=timezone.now()):
            return redirect(self.object)
        return self.render_to_response(self.get_context_data())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        report: ServiceRequest = self.object
        if "late_text" in kwargs:  # the window has ended: the public page
            return super().get_context_data(**kwargs)
        now = timezone.now()
        minutes = settings.REPORT_PREVIEW_MINUTES
        kwargs.setdefault("edit_form", PreviewEditForm(initial={"description": report.description}))
        return super().get_context_data(
            preview=True,
            preview_action=self.request.path,
            preview_photos=list(report.photos.filter(comment__isnull=True).order_by("order")),
            # Whole minutes, rounded up: "in 1 minute" until the last second.
            preview_minutes_left=ceil((report.published_at - now).total_seconds() / 60),
            preview_seconds_left=int((report.published_at - now).total_seconds()),
            preview_window=minutes,
            preview_can_extend=rules.can_extend_preview(report, now=now, preview_minutes=minutes),
            preview_latest=rules.preview_latest(report, minutes),
            **kwargs,
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = report = self.get_object()
        action = request.POST.get("action", "")
        if not rules.in_preview(report, now=timezone.now()):
            return self._ended(action)
        try:
            if action == "extend":
                report_preview_extend(report=report)
                messages.success(
                    request,
                    "Your report stays private until "
                    f"{date_format(timezone.localtime(report.published_at), 'g:i A')}.",
                )
                return HttpResponseRedirect(request.path)
            if action == "publish":
                report_publish(report=report)
                messages.success(request, f"Report #{report.pk} is now public.")
                return redirect(report)
            if action == "remove-photo":
                # ASCII digits within 64 bits: str.isdigit() lets "²" through to int(),
                # which refuses it, and a 23-digit number overflows the database.
                photo_id = parse_id(request.POST.get("photo", ""))
                if photo_id is None:
                    raise ValidationError("Choose a photo to remove.")
                report_preview_photo_remove(report=report, photo_id=photo_id)
                messages.success(request, "The photo was removed.")
                return HttpResponseRedirect(request.path)
            if action == "edit":
                form = PreviewEditForm(request.POST)
                if not form.is_valid():
                    return self._invalid(form)
                report_preview_edit(report=report, description=form.cleaned_data["description"])
                messages.success(request, "Your changes are saved.")
                return HttpResponseRedirect(request.path)
        except ValidationError as exc:
            if not rules.in_preview(report, now=timezone.now()):
                return self._ended(action)  # the window ended while the service waited
            form = PreviewEditForm(request.POST if action == "edit" else None)
            if action == "edit":
                form.is_valid()
                form.add_service_errors(exc)
                return self._invalid(form)
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(request.path)
        return HttpResponse("Unknown action.", status=400)

    def _invalid(self, form: PreviewEditForm) -> HttpResponse:
        context = self.get_context_data(edit_form=form)
        return self.render_to_response(context, status=400)

    def _ended(self, action: str) -> HttpResponse:
        """A change sent after the window ended. A new description is not thrown away:
        the public page answers (409) with the text given back, ready to be sent as a
        comment. Anything else had nothing typed to lose: the public page, with a note."""
        if action != "edit":
            messages.info(self.request, "Your report is public now; it can no longer be changed.")
            return redirect(self.object)
        text = self.request.POST.get("description", "").strip()
        context = self.get_context_data(
            late_text=text, comment_form=CommentForm(initial={"text": text})
        )
        return self.render_to_response(context, status=409)


@method_decorator(rate_limit("comment", setting="RATELIMIT_COMMENT"), name="post")
class CommentCreateView(ReportDetailView):
    """POST a comment from a report's page; errors are shown on that page."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = report = self.get_object()
        form = CommentForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                comment_add(
                    report=report,
                    text=data["text"],
                    author_name=data["author_name"],
                    author_email=data["author_email"],
                    photo=data["photo"] or None,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "Thank you. Your comment is published below.")
                return HttpResponseRedirect(report.get_absolute_url() + "#comments")
        context = self.get_context_data(comment_form=form)
        return self.render_to_response(context, status=400)


class FixedAnswerView(View):
    """The reporter's answer to "Is it fixed?" from the email's links. GET shows the
    question (a mail scanner that opens links must not answer it); POST answers."""

    answer = "yes"
    template_name = "reports/fixed_answer.html"

    def report_and_closing(self, token: str) -> tuple[ServiceRequest, Any]:
        try:
            question = fixed_token_read(token)
        except LinkInvalid as exc:
            raise Http404("This link is not valid or has expired.") from exc
        report = get_object_or_404(
            ServiceRequest.objects.select_related("service"), pk=question.report_id
        )
        return report, question.closed_at

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        report, closed_at = self.report_and_closing(token)
        form = NotFixedForm() if self.answer == "no" else FixedForm()
        return self.respond(request, report, rules.fixed_answer(report, closed_at), form)

    @method_decorator(rate_limit("followup", setting="RATELIMIT_FOLLOWUP"))
    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        report, closed_at = self.report_and_closing(token)
        state = rules.fixed_answer(report, closed_at)
        if state != FixedAnswer.ASK:
            return self.respond(request, report, state, None)
        if self.answer == "yes":
            form: FixedForm | NotFixedForm = FixedForm(request.POST)
            if not form.is_valid():
                return self.respond(request, report, state, form, status=400)
            state = report_fixed_confirm(report=report, closed_at=closed_at)
            return self.respond(request, report, state, None, done=True)
        form = NotFixedForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                state = report_fixed_deny(
                    report=report,
                    closed_at=closed_at,
                    text=form.cleaned_data["text"],
                    photo=form.cleaned_data["photo"] or None,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return self.respond(request, report, state, None, done=True)
        return self.respond(request, report, state, form, status=400)

    def respond(
        self,
        request: HttpRequest,
        report: ServiceRequest,
        state: str,
        form: FixedForm | NotFixedForm | None,
        *,
        done: bool = False,
        status: int = 200,
    ) -> HttpResponse:
        public = report.is_published(timezone.now())
        return render(
            request,
            self.template_name,
            {
                # A hidden report is not named or linked.
                "report": None if state == FixedAnswer.UNAVAILABLE else report,
                "public": public,
                "state": state,
                "answer": self.answer,
                "form": form,
                "done": done,
            },
            status=404 if state == FixedAnswer.UNAVAILABLE else status,
        )
