"""One response at a time (`submit_response`): validated, stored, its scores marked dirty."""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..answers import CleanAnswer, clean_answers
from ..definition import SurveyDefinition, definition_for
from ..exceptions import (
    InvalidAnswers,
    InvitationExpired,
    InvitationNotFound,
    InvitationRequired,
    InvitationUsed,
    SurveyClosed,
    UnknownUnit,
)
from ..models import Invitation, OrgUnit, Response, Survey, WebhookSubscription
from ..selectors import FRONTLINE_LEVELS
from .rows import insert_answers, insert_row, link_chosen_options
from .scores import mark_scores_dirty
from .webhooks import announce_responses, notify_response_submitted

logger = logging.getLogger(__name__)


def find_invitation(token: str) -> Invitation:
    """The invitation for a token that can still be answered, or a domain error."""
    invitation = Invitation.objects.select_related("survey", "unit").filter(token=token).first()
    if invitation is None:
        raise InvitationNotFound()
    if invitation.is_used:
        raise InvitationUsed()
    if invitation.is_expired():
        raise InvitationExpired()
    return invitation


def check_unit(survey: Survey, unit: OrgUnit | None) -> OrgUnit:
    """The unit a response is filed against: a store or team inside the survey's root unit.
    A region, the company or a unit outside the survey is refused with the same message as
    an unknown code, so a link cannot be used to find out which units exist."""
    if unit is None:
        raise UnknownUnit("Choose the store or team this answer is about.")
    outside = survey.root_unit and not unit.path.startswith(survey.root_unit.path)
    if outside or unit.level not in FRONTLINE_LEVELS:
        raise UnknownUnit(f"Unit '{unit.code}' is not known.")
    return unit


def _claim_invitation(token: str, now: datetime) -> Invitation:
    """Mark the invitation used; the conditional UPDATE makes two racing claims yield one.

    Employee and anonymous surveys record only that it was used, never when."""
    invitation = find_invitation(token)
    used_at = None if invitation.survey.is_confidential else now
    claimed = Invitation.objects.filter(pk=invitation.pk, used=False).update(
        used=True, used_at=used_at
    )
    if not claimed:
        raise InvitationUsed()
    return invitation


def submit_response(
    *,
    survey: Survey,
    answers: Mapping[str, Any],
    unit: OrgUnit | None = None,
    token: str | None = None,
    channel: str = Response.Channel.WEB,
    meta: Mapping[str, Any] | None = None,
    definition: SurveyDefinition | None = None,
) -> Response:
    """Validate and store one response with its answers, atomically.

    `token` (a personal invitation) fixes the unit and is used up; otherwise `unit` is the
    public link's unit. An employee survey takes public-link answers only when its
    `allow_public_link` is on, and only from its web page (which limits them per browser and
    address). `meta` may carry respondent_key, segment, language, external_id and
    submitted_at (imports). Employee and anonymous surveys keep no respondent key, no
    invitation link, only the day of submission and only the survey's reporting attributes
    of the segment (`response_fields`), so a response cannot be traced back to a person.
    Raises SurveyClosed, InvitationRequired, InvitationNotFound/Used/Expired, UnknownUnit
    or InvalidAnswers; nothing is written when it raises.

    The questions come from the survey's cached `definition` (loaded if not given). The
    transaction holds no shared row: it inserts the response, its answers and one change-log
    row (`mark_scores_dirty`); webhook deliveries are written only when the definition says
    someone subscribed.
    """
    meta = dict(meta or {})
    if survey.status != Survey.Status.OPEN:
        raise SurveyClosed()
    if token is None and not (survey.accepts_public_link and _public_channel(survey, channel)):
        raise InvitationRequired()
    definition = definition or definition_for(survey)
    cleaned, errors = clean_answers(definition.questions, answers)
    if errors:
        raise InvalidAnswers(errors)
    now = timezone.now()
    try:
        return _store_response(survey, definition, cleaned, unit, token, channel, meta, now)
    except IntegrityError:
        # A unit deleted meanwhile by another process, which keeps its unit lookups for a
        # while (`respondent_cache`): refused like an unknown code, nothing written.
        if unit is not None and not OrgUnit.objects.filter(pk=unit.pk).exists():
            raise UnknownUnit(f"Unit '{unit.code}' is not known.") from None
        raise


def _store_response(
    survey: Survey,
    definition: SurveyDefinition,
    cleaned: list[CleanAnswer],
    unit: OrgUnit | None,
    token: str | None,
    channel: str,
    meta: dict[str, Any],
    now: datetime,
) -> Response:
    """`submit_response`'s writes, in one transaction."""
    with transaction.atomic():
        invitation = None
        if token is not None:
            invitation = _claim_invitation(token, now)
            if invitation.survey_id != survey.pk:
                raise InvitationNotFound()
            unit = invitation.unit
            meta.setdefault("respondent_key", invitation.customer_id)
            meta["segment"] = {**invitation.segment, **meta.get("segment", {})}
            meta.setdefault("language", invitation.language)
        response = Response(
            survey=survey,
            unit=check_unit(survey, unit),
            channel=channel,
            **response_fields(survey, invitation, meta, now),
        )
        insert_row(response)
        answered = [(response.pk, item) for item in cleaned]
        insert_answers(answered)
        link_chosen_options(answered)
        mark_scores_dirty(survey_id=survey.pk, period=response.period, response_id=response.pk)
        if definition.wants_webhook(WebhookSubscription.Event.RESPONSE_SUBMITTED):
            notify_response_submitted(survey=survey, response_ids=[response.pk])
        announce_responses(survey=survey, responses=[response])
    return response


def _public_channel(survey: Survey, channel: str) -> bool:
    """Employee public-link answers come from the web page only, where they are limited."""
    return not survey.is_employee or channel == Response.Channel.WEB


def response_fields(
    survey: Survey, invitation: Invitation | None, meta: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The stored fields of a response besides survey, unit and channel.

    Employee and anonymous surveys keep the day of submission only (midnight, local time:
    an exact time could be matched with the moment an invitation link was opened or a
    message sent), no invitation and no respondent key, and of the segment only the keys
    listed in the survey's `reporting_attributes`.
    """
    submitted_at = meta.get("submitted_at") or now
    segment = meta.get("segment") or {}
    fields = {
        "period": survey.period_for(submitted_at),
        "segment": segment,
        "language": meta.get("language") or "",
        "external_id": meta.get("external_id") or "",
    }
    if survey.is_confidential:
        day = timezone.localtime(submitted_at).replace(hour=0, minute=0, second=0, microsecond=0)
        allowed = set(survey.reporting_attributes or [])
        kept = {key: value for key, value in segment.items() if key in allowed}
        return {
            **fields,
            "segment": kept,
            "submitted_at": day,
            "invitation": None,
            "respondent_key": "",
        }
    return {
        **fields,
        "submitted_at": submitted_at,
        "invitation": invitation,
        "respondent_key": meta.get("respondent_key") or "",
    }
