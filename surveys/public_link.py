"""One answer per person on a public link: a signed cookie per browser and a counter per
network address, both per survey and round (period). Personal invitations need neither:
they are single-use (`services.submissions`).

The counter lives in the shared cache (Redis whenever configured), so it holds across web
processes. A failing cache lets the answer through, as `common.ratelimit` does: an answer is
worth more than the limit for the seconds the cache is away. Employee surveys always limit
per browser and never allow more than EMPLOYEE_PUBLIC_ANSWERS_PER_ADDRESS per address.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from common.cachesafe import count_in_window

from .models import Survey

logger = logging.getLogger(__name__)

ANSWERED_COOKIE = "cxsurvey_answered"
ANSWERED_COOKIE_SALT = "surveys.public-link-answers"
COOKIE_MAX_AGE = 100 * 24 * 3600
COOKIE_ENTRIES_KEPT = 20
# Longer than any round (a quarter); the key names the round, so a new round starts at 0.
COUNTER_TIMEOUT = 100 * 24 * 3600


def address_limit(survey: Survey) -> int | None:
    """Answers allowed per address and round; None means no limit."""
    configured = survey.public_answers_per_address
    if survey.is_employee:
        ceiling = settings.EMPLOYEE_PUBLIC_ANSWERS_PER_ADDRESS
        return ceiling if not configured else min(configured, ceiling)
    if configured is None:
        configured = settings.PUBLIC_ANSWERS_PER_ADDRESS
    return configured or None


def limits_browser(survey: Survey) -> bool:
    return survey.is_employee or survey.one_answer_per_browser


def _round_key(survey: Survey) -> str:
    return f"{survey.pk}:{survey.period_for(timezone.now())}"


def _address_key(request: HttpRequest, survey: Survey) -> str:
    # The client address as the API's throttles read it (NUM_PROXIES hops back).
    address = BaseThrottle().get_ident(request)  # type: ignore[arg-type]
    return f"public-answers:{_round_key(survey)}:{address}"


def _answered_rounds(request: HttpRequest) -> list[str]:
    answered = request.get_signed_cookie(ANSWERED_COOKIE, "", salt=ANSWERED_COOKIE_SALT) or ""
    return [entry for entry in answered.split(",") if entry]


def answered_from_here(request: HttpRequest, survey: Survey) -> bool:
    """This browser already answered this round, or its address reached the limit."""
    if limits_browser(survey) and _round_key(survey) in _answered_rounds(request):
        return True
    limit = address_limit(survey)
    if limit is None:
        return False
    try:
        return (cache.get(_address_key(request, survey)) or 0) >= limit
    except Exception:
        logger.warning("Public-link limit not read: the cache failed", exc_info=True)
        return False


def count_answer(request: HttpRequest, response: HttpResponse, survey: Survey) -> None:
    """Record one accepted answer: the address counter, and the browser's cookie."""
    if address_limit(survey) is not None:
        key = _address_key(request, survey)
        try:
            count_in_window(key, COUNTER_TIMEOUT)
        except Exception:
            logger.warning("Public-link answer not counted: the cache failed", exc_info=True)
    if not limits_browser(survey):
        return
    kept = _answered_rounds(request)[-COOKIE_ENTRIES_KEPT:]
    response.set_signed_cookie(
        ANSWERED_COOKIE,
        ",".join([*kept, _round_key(survey)]),
        salt=ANSWERED_COOKIE_SALT,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
