"""Mask personal data in open comments before they are shown, exported or analysed.

Three placeholders replace what is found: "[email]" for e-mail addresses, "[phone]" for phone
numbers, "[card]" for payment card and account numbers. The rules, in order:

- E-mail: local@domain.tld (RFC 5322's common form; Unicode letters allowed).
- IBAN: two letters, two check digits and 11-30 letters or digits, printed in groups of four or
  not, that pass the ISO 13616 mod-97 check → "[card]".
- Every other run of digits (single spaces, dashes, dots, slashes and parentheses allowed
  between them, an optional leading "+") is classified by its digits. Dates (2024-03-12,
  12/03/2024, 12.03.24) are set aside first and never masked.
    1. 13-19 digits with only spaces or dashes between them that pass the Luhn check
       (ISO/IEC 7812) → "[card]".
    2. A run written right after "#" (an order or ticket number: "#12345") is kept.
    3. International ("+" or "00" first) or with an area code in parentheses, 7-15 digits
       (E.164's maximum is 15) → "[phone]".
    4. North American 3-3-4 grouping ("202-555-0147", "1 800 555 0100") → "[phone]".
    5. A national number: leading 0 and 9-12 digits ("020 7946 0958", "06 12 34 56 78").
    6. Any 10 or 11 digits → "[phone]": in a comment such a number is most often a phone.
    7. Any 12 digits or more → "[card]": account, customer and policy numbers and card
       numbers with a typo (failing Luhn) are personal too. A 12-digit order number loses its
       digits, which is the safe side.
    8. 6 digits or more right after "call", "phone", "tel", "mobile", "cell", "text",
       "WhatsApp", "SMS" or "fax" → "[phone]" (local numbers such as "555-1234").
  Shorter runs survive: prices, years, times, quantities, "#12345", "order 123456".

Limits: numbers written in words, split by commas, or obfuscated ("john at example dot com")
are not found; a masked comment should still be treated as personal when shown to few people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"

_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_NUMBERS = re.compile(
    r"(?P<date>(?<!\d)(?:\d{4}(?P<iso>[-/.])\d{1,2}(?P=iso)\d{1,2}(?!\d|(?P=iso)\d)"
    r"|\d{1,2}(?P<day>[-/.])\d{1,2}(?P=day)\d{2,4}(?!\d|(?P=day)\d)))"
    r"|(?P<number>(?<![\w+(])#?(?:\+\s?|\(\s?\+?)?\d(?:(?:\)\s?|\s?\(|[ ./-])?\d)*)"
)
_CARD_SHAPE = re.compile(r"\d+(?:[ -]\d+)*")
_NORTH_AMERICAN = re.compile(r"(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}")
_PHONE_CONTEXT = re.compile(
    r"\b(?:call|phone|tel|telephone|mobile|cell|text|whatsapp|sms|fax|ring)\b[^\d\n]{0,20}$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PersonalData:
    """A span of personal data found in a text and the placeholder that replaces it."""

    start: int
    end: int
    placeholder: str


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check of a digit string, as for payment card numbers (ISO/IEC 7812-1)."""
    if not digits.isdigit():
        return False
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    """ISO 13616 check: first four characters moved to the end, letters as 10-35, mod 97 = 1."""
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(character, 36)) for character in rearranged)) % 97 == 1


def _phone_shaped(number: str, digits: str) -> bool:
    """Rules 3-6 of the module docstring: international, bracketed, North American, national."""
    count = len(digits)
    if (number.startswith(("+", "(")) or digits.startswith("00")) and 7 <= count <= 15:
        return True
    if _NORTH_AMERICAN.fullmatch(number):
        return True
    if digits.startswith("0") and 9 <= count <= 12:
        return True
    return 10 <= count <= 11


def _classify(text: str, start: int, number: str) -> str | None:
    """Placeholder for a run of digits at ``start``, or None to keep it (module docstring)."""
    digits = re.sub(r"\D", "", number)
    bare = number.lstrip("#")
    if 13 <= len(digits) <= 19 and _CARD_SHAPE.fullmatch(bare) and luhn_valid(digits):
        return CARD
    if number.startswith("#"):
        return None
    if _phone_shaped(bare, digits):
        return PHONE
    if len(digits) >= 12:
        return CARD
    if len(digits) >= 6 and _PHONE_CONTEXT.search(text[max(0, start - 40) : start]):
        return PHONE
    return None


def _number_spans(text: str, taken: list[PersonalData]) -> list[PersonalData]:
    """Spans of digit runs to mask, skipping dates and anything inside an earlier span."""
    spans = []
    for match in _NUMBERS.finditer(text):
        number = match.group("number")
        if number is None or any(span.start <= match.start() < span.end for span in taken):
            continue
        number = number.rstrip(" ./-(")
        placeholder = _classify(text, match.start(), number)
        if placeholder is not None:
            spans.append(PersonalData(match.start(), match.start() + len(number), placeholder))
    return spans


def find_personal_data(text: str) -> tuple[PersonalData, ...]:
    """Non-overlapping spans of e-mail addresses, IBANs, card and phone numbers, in order."""
    spans = [PersonalData(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(text)]
    for match in _IBAN.finditer(text):
        inside = any(span.start <= match.start() < span.end for span in spans)
        if not inside and iban_valid(match.group()):
            spans.append(PersonalData(match.start(), match.end(), CARD))
    spans += _number_spans(text, spans)
    return tuple(sorted(spans, key=lambda span: span.start))


def mask_personal_data(text: str) -> str:
    """The text with every span ``find_personal_data`` finds replaced by its placeholder."""
    pieces = []
    position = 0
    for span in find_personal_data(text):
        pieces.append(text[position : span.start])
        pieces.append(span.placeholder)
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces)
