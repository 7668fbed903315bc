"""Idempotent POSTs: a request sent with an `Idempotency-Key` header runs once.

The first result (status and body) is stored with a hash of the request and replayed for
24 hours to any retry with the same key, which then creates nothing. The same key with a
different request is refused with 422. Keys belong to the authenticated user; anonymous
(public) callers share one space per path.

Concurrency: the request runs in one transaction that first takes a PostgreSQL advisory
lock on the key, so a racing retry waits for the first attempt and then replays its stored
result. The unique (user, key) constraint backs this up (and is the only guard on SQLite,
where a losing racer gets 409 and nothing of its work is kept).
"""

import functools
import hashlib
import json
import re
from collections.abc import Callable

from django.db import connection, transaction
from django.http.request import RawPostDataException
from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import IdempotencyRecord
from ..selectors import live_idempotency_record
from ..services.idempotency import IdempotencyConflict, store_result
from .errors import ApiError

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII without spaces
# Results worth replaying: what the request did or why it was refused. Server errors and
# rate limits are not stored, so a retry after them runs again.
_NOT_STORED = {429}

KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    pattern=r"^[!-~]{1,255}$",
    description="Any unique string of 1 to 255 printable ASCII characters (e.g. a UUID). A "
    "retry with the same key and body returns the first result and creates nothing twice; "
    "keys are kept for 24 hours.",
)


def idempotent(action: Callable) -> Callable:
    """Decorate a POST view method so an `Idempotency-Key` makes retries safe."""

    @functools.wraps(action)
    def wrapper(view, request: Request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return action(view, request, *args, **kwargs)
        if not _KEY.match(key):
            raise ApiError(
                f"{HEADER} must be 1 to 255 printable characters without spaces.",
                fields={HEADER: ["Use 1 to 255 printable ASCII characters, e.g. a UUID."]},
            )
        return _run_once(view, request, key, lambda: action(view, request, *args, **kwargs))

    return wrapper


def request_fingerprint(request: Request) -> str:
    """SHA-256 of method, path, query and body: a retry must repeat all of them exactly."""
    digest = hashlib.sha256(f"{request.method}\n{request.get_full_path()}\n".encode())
    try:
        digest.update(request.body)
    except RawPostDataException:  # a multipart body already consumed: hash what was parsed
        digest.update(json.dumps(request.data, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _run_once(view, request: Request, key: str, call: Callable[[], Response]) -> Response:
    user = request.user if request.user.is_authenticated else None
    fingerprint = request_fingerprint(request)
    with transaction.atomic():
        _lock(user, key, request.path)
        record = live_idempotency_record(user=user, key=key, path=request.path)
        if record is not None:
            return _replay(record, fingerprint)
        try:
            response = call()
        except Exception as error:  # noqa: BLE001 — the view's own handler renders it
            response = view.handle_exception(error)
        if response.status_code >= 500:
            transaction.set_rollback(True)  # keep nothing of a request that failed midway
        elif response.status_code not in _NOT_STORED:
            _store(user, key, request, fingerprint, response)
    return response


def _lock(user, key: str, path: str) -> None:
    """Serialise requests with the same key until the first one commits (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    scope = f"{user.pk}:{key}" if user is not None else f"anonymous:{path}:{key}"
    number = int.from_bytes(hashlib.sha256(scope.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_hash != fingerprint:
        raise ApiError(
            f"This {HEADER} was already used for a different request (another path or body). "
            "Use a new key for a new request; a retry must repeat the first request exactly.",
            status_code=422,
            code="idempotency_key_reused",
        )
    return Response(
        record.response_body,
        status=record.response_status,
        headers={"Idempotent-Replayed": "true"},
    )


def _store(user, key: str, request: Request, fingerprint: str, response: Response) -> None:
    body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else {}
    try:
        store_result(
            user=user,
            key=key,
            method=request.method or "POST",
            path=request.path,
            request_hash=fingerprint,
            status=response.status_code,
            body=body,
        )
    except IdempotencyConflict as conflict:
        raise ApiError(conflict.message, status_code=409, code=conflict.error_code) from None
