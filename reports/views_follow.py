"""The pages a follower reaches from an email: confirm a follow, unsubscribe. Both are
opened by signed links (reports/links.py) and need no login."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from reports.links import LinkExpired, Purpose, subscription_from_token
from reports.models import Subscription
from reports.services.subscriptions import (
    subscription_cancel,
    subscription_confirm,
    support_pending,
)


class SubscriptionLinkView(View):
    """A page reached from a follower's email by a signed link (reports/links.py). GET only
    shows a button, because mail scanners fetch every link in a message; POST acts."""

    purpose: Purpose
    template_name: str

    def get_subscription(self, token: str) -> Subscription:
        subscription = subscription_from_token(token, self.purpose)
        if subscription is None:
            raise Http404("This link is not valid.")
        return subscription

    def respond(
        self,
        request: HttpRequest,
        subscription: Subscription,
        *,
        state: str,
        status: int = 200,
        support: bool = False,
    ) -> HttpResponse:
        report = subscription.request
        return render(
            request,
            self.template_name,
            {
                "state": state,
                # The address said "this is my problem too": confirming adds its voice.
                "support": support,
                # A report hidden by moderation is not named or linked.
                "report": None if report.hidden else report,
                "action": request.path,
            },
            status=status,
        )


class FollowConfirmView(SubscriptionLinkView):
    """The link in the confirmation email: a button that starts the updates."""

    purpose = "confirm"
    template_name = "reports/follow_confirm.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return super().dispatch(request, *args, **kwargs)
        except LinkExpired:
            return render(request, self.template_name, {"state": "expired"}, status=410)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        subscription = self.get_subscription(token)
        support = support_pending(subscription)
        state = self.state_of(subscription, support=support)
        return self.respond(request, subscription, state=state, support=support)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        subscription = self.get_subscription(token)
        support = support_pending(subscription)
        try:
            subscription_confirm(subscription=subscription)
        except ValidationError:
            return self.respond(request, subscription, state="unsubscribed", status=409)
        return self.respond(request, subscription, state="confirmed", support=support)

    @staticmethod
    def state_of(subscription: Subscription, *, support: bool) -> str:
        if not subscription.active:
            return "unsubscribed"
        return "confirmed" if subscription.confirmed_at and not support else "ask"


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(SubscriptionLinkView):
    """One-click unsubscribe (RFC 8058): GET asks, POST does it. No login: the signed token
    in the link is the key.

    CSRF-exempt because mail clients send one-click POSTs (List-Unsubscribe-Post) without
    our cookie; a forged request would need the signed token anyway, and the only effect is
    to stop emails."""

    purpose = "unsubscribe"
    template_name = "reports/unsubscribe.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        subscription = self.get_subscription(token)
        return self.respond(request, subscription, state="ask" if subscription.active else "done")

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        subscription = subscription_cancel(subscription=self.get_subscription(token))
        return self.respond(request, subscription, state="unsubscribed")
