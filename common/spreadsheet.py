"""Spreadsheet safety: one rule for every export, in Python and in SQL.

A spreadsheet runs a cell whose text starts with =, +, -, @, a tab or a carriage return as a
formula (OWASP "CSV injection"). Such text gets a leading apostrophe, which spreadsheets hide
and show the text as typed (a phone number "+49 30 1234" then stays text instead of becoming
a failed formula). Numbers, booleans and empty cells are not touched.
"""

from typing import Any

from django.db.models import Case, F, TextField, Value, When
from django.db.models.functions import Concat, Substr
from django.db.models.lookups import In

FORMULA_START = frozenset("=+-@\t\r")


def neutralise(value: Any) -> Any:
    """`value` safe to open in a spreadsheet (text only; other types are returned as is)."""
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


def neutralised(expression: Any) -> Case:
    """SQL twin of `neutralise` for a text column or expression."""
    text = expression if hasattr(expression, "resolve_expression") else F(expression)
    starts_formula: In = In(Substr(text, 1, 1), sorted(FORMULA_START))
    return Case(
        When(starts_formula, then=Concat(Value("'"), text, output_field=TextField())),
        default=text,
        output_field=TextField(),
    )
