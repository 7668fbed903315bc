"""Request parsing: DRF's JSON parser, refusing documents that would only fail later."""

import io
import json
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A \uD800–\uDFFF escape: the only way a UTF-8 body can carry a surrogate code point.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class JSONTextParser(JSONParser):
    """DRF's JSON parser, refusing (400) documents that would only fail later, as a 500:
    nesting deeper than Python can parse, lone surrogates ("\\ud800"), which are not text
    that PostgreSQL can store or a response can echo back, and NUL characters ("\\u0000"),
    which neither its text nor its jsonb columns hold (also not in an echoed field name)."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        raw = stream.read()
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        # Escaped pairs (emoji) are fine; only a full check tells them from lone halves.
        if _SURROGATE_ESCAPE.search(raw) and not _is_unicode_text(data):
            raise ParseError(
                "JSON parse error - strings must be Unicode text; a lone surrogate "
                "(\\ud800–\\udfff) is not."
            )
        if b"\\u0000" in raw and _contains_nul(data):
            raise ParseError("JSON parse error - strings must not contain NUL (\\u0000).")
        return data


def _contains_nul(data: Any) -> bool:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _is_unicode_text(data: Any) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
