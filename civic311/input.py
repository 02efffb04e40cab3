"""Input that can never be stored or read is refused at the door, with a clear answer.

Two things go wrong below the forms and are checked here, once for every page:

- NUL characters (``\\x00``). PostgreSQL text cannot hold them, so a NUL that reached a query
  or a save would be a 500. The address (path and query string) is checked here for every
  page; a citizen form's fields are checked by `civic311.forms.CitizenForm`, other forms'
  by Django's own ``CharField`` validator; the Open311 API checks its parameters itself, to
  answer in the spec's error format.
- Bodies over Django's limits (``DATA_UPLOAD_MAX_MEMORY_SIZE``,
  ``DATA_UPLOAD_MAX_NUMBER_FIELDS``, ``DATA_UPLOAD_MAX_NUMBER_FILES``, and our own
  ``MAX_REQUEST_BYTES``, which bounds uploads too). Django raises these deep inside the
  first read of ``request.POST`` and answers a bare "Bad Request"; reading the body here
  turns them into a page that says what happened, or, on a citizen form, the form again
  with the message (`FormInputProblemMixin`).

And one rule for what people type, used by the services that take it: text that must be
there (a description, a comment, a display name) or that others will see (a nickname, a care
note) must hold something visible (`visible_length`, `has_visible`), and a name others see
may not hold the controls that reverse or reorder its letters (`bidi_controls_in`).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.datastructures import MultiValueDict

logger = logging.getLogger(__name__)

NUL = "\x00"
# Why an imported file's row is skipped.
NUL_IN_ROW = "it contains a NUL character (\\x00)"
BODY_METHODS = ("POST", "PUT", "PATCH")

# Characters that draw nothing: controls and format characters (zero-width space and
# joiners, soft hyphen, byte order mark, tags...), and the letters and symbols fonts leave
# blank (Hangul fillers, the blank Braille pattern). Spaces are counted apart.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_BLANK_GRAPHICS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_SPACE_CATEGORIES = frozenset({"Zs", "Zl", "Zp"})
# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): in a
# name they make what others read differ from what was typed ("\u202eevil" reads "live").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
BIDI_IN_NAME = "Please remove the text-direction control characters (U+202A-U+202E, U+2066-U+2069)."


def visible_length(text: str) -> int:
    """How long `text` is to a reader, for minimums and "is anything there": what is typed
    can be ten zero-width spaces, which ``len`` and ``strip`` count as ten characters.

    Counted on the NFC form (a letter and its accent typed apart count once): spaces between
    words count as one, leading and trailing ones not at all; format characters and controls
    (zero-width joiners inside an emoji or an Indic word, too) count nothing but are kept;
    a combining mark counts only on a visible letter. The text itself is never changed."""
    count = 0
    space = False
    on_visible = False
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if category in _SPACE_CATEGORIES or char.isspace():
            space, on_visible = count > 0, False
        elif category[0] == "M":
            count += on_visible
        elif category not in _INVISIBLE_CATEGORIES and char not in _BLANK_GRAPHICS:
            count += 1 + space
            space, on_visible = False, True
    return count


def invisible_only(what: str) -> str:
    return f"{what} has only invisible characters (spaces, zero-width or formatting characters)."


def has_visible(text: str) -> bool:
    return visible_length(text) > 0


def bidi_controls_in(text: str) -> bool:
    return any(char in BIDI_CONTROLS for char in text)


@dataclass(frozen=True)
class InputProblem:
    """Why a request's input cannot be used, and the HTTP status that says so."""

    status: int
    message: str


def nul_message(name: str) -> str:
    return f"{name}: contains a NUL character (\\x00), which is not allowed."


def holds_nul(value: Any) -> bool:
    """Whether a value read from a file (text, or JSON's lists and objects, keys included)
    holds a NUL character anywhere."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False


def nul_parameters(data: QueryDict | MultiValueDict) -> list[str]:
    """The names of the parameters whose name or any value holds a NUL character."""
    names = []
    for name, values in data.lists():
        texts = [v if isinstance(v, str) else str(getattr(v, "name", "")) for v in values]
        if NUL in name or any(NUL in text for text in texts):
            names.append(name.replace(NUL, "\\x00"))
    return names


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def too_large() -> InputProblem:
    return InputProblem(
        413,
        "The request is too large: at most "
        f"{_megabytes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)} of form data and "
        f"{_megabytes(settings.MAX_REQUEST_BYTES)} in all (photos included) can be sent.",
    )


def too_many_fields() -> InputProblem:
    return InputProblem(
        400,
        f"The request has too many fields (at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}"
        f" values and {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files).",
    )


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def body_problem(request: HttpRequest) -> InputProblem | None:
    """Read the form body now and say what is wrong with it, if anything. Afterwards
    ``request.POST`` and ``request.FILES`` are parsed (empty when the body was refused)."""
    if request.method not in BODY_METHODS:
        return None
    if _content_length(request) > settings.MAX_REQUEST_BYTES:
        # Not even read: a client that announces a gigabyte is told at once.
        problem: InputProblem | None = too_large()
    else:
        try:
            request.POST  # noqa: B018  (parses the body)
            request.FILES  # noqa: B018
            return None
        except RequestDataTooBig:
            problem = too_large()
        except (TooManyFieldsSent, TooManyFilesSent):
            problem = too_many_fields()
        except MultiPartParserError as exc:
            problem = InputProblem(400, f"The form data could not be read ({exc}).")
        except BadRequest as exc:  # a form body in another charset than UTF-8
            problem = InputProblem(400, f"The form data could not be read: {exc}")
    # Later reads of POST and FILES find them empty instead of parsing again.
    request._mark_post_parse_error()  # type: ignore[attr-defined]
    return problem


def address_problem(request: HttpRequest) -> InputProblem | None:
    """A NUL in the path or in the query string."""
    names = nul_parameters(request.GET)
    if NUL in request.path:
        names.insert(0, "the address")
    if names:
        return InputProblem(400, " ".join(nul_message(name) for name in names))
    return None


def problem_page(request: HttpRequest, problem: InputProblem) -> HttpResponse:
    return render(request, "400.html", {"message": problem.message}, status=problem.status)


def _is_api_view(view_func: Callable[..., Any]) -> bool:
    """DRF views (the Open311 API) answer bad input in their own format."""
    from rest_framework.views import APIView

    view_class = getattr(view_func, "cls", None)
    return isinstance(view_class, type) and issubclass(view_class, APIView)


def _shows_problems_in_form(view_func: Callable[..., Any]) -> bool:
    view_class = getattr(view_func, "view_class", None)
    return bool(getattr(view_class, "input_problems_in_form", False))


class InputGuardMiddleware:
    """Refuse NUL characters in the address and bodies over the limits, clearly.

    Placed before CsrfViewMiddleware, whose check is the first to read ``request.POST``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Iterable[Any],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if _is_api_view(view_func):
            return None
        problem = address_problem(request)
        if problem is None:
            problem = body_problem(request)
            if problem is None:
                return None
            if _shows_problems_in_form(view_func):
                # The body was thrown away, so the view can only show its form again with
                # the message; with nothing to act on, the CSRF token that went with the
                # discarded body is not needed (and could not be read).
                request.input_problem = problem  # type: ignore[attr-defined]
                request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
                return None
        logger.info("Refused input on %s: %s", request.path, problem.message)
        return problem_page(request, problem)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: Django's own refusals (a disallowed host, a malformed cookie...) as a
    page that says the request could not be used, not a bare "Bad Request"."""
    return problem_page(
        request,
        InputProblem(400, "The request could not be understood. Please go back and try again."),
    )


class FormInputProblemMixin:
    """For a view whose form can show a body refused by `InputGuardMiddleware`: the form
    comes back (empty: the body was not read) with the message, under the status that
    says why (413 or 400)."""

    input_problems_in_form = True
    request: HttpRequest

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()  # type: ignore[misc]
        problem = getattr(self.request, "input_problem", None)
        if problem is not None:
            kwargs["input_problem"] = problem.message
        return kwargs

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        problem = getattr(self.request, "input_problem", None)
        if problem is not None:
            kwargs["status"] = problem.status
        return super().render_to_response(context, **kwargs)  # type: ignore[misc]
