"""One response at a time (`submit_response`), and the dirty-cell marks that queue recomputes."""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..answers import CleanAnswer, clean_answers
from ..exceptions import (
    InvalidAnswers,
    InvitationExpired,
    InvitationNotFound,
    InvitationUsed,
    SurveyClosed,
    UnknownUnit,
)
from ..models import Answer, DirtyScoreCell, Invitation, OrgUnit, Response, Survey
from ..tasks import recompute_scores_task
from ..webhooks import notify_response_submitted

logger = logging.getLogger(__name__)


def questions_for(survey: Survey) -> list:
    """The survey's questions with their choices, in display order."""
    return list(survey.questions.prefetch_related("choices").order_by("order", "id"))


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


def _check_unit(survey: Survey, unit: OrgUnit | None) -> OrgUnit:
    if unit is None:
        raise UnknownUnit("Choose the store or team this answer is about.")
    if survey.root_unit_id and not unit.path.startswith(survey.root_unit.path):
        raise UnknownUnit(f"Unit '{unit.code}' does not take part in this survey.")
    return unit


def _claim_invitation(token: str, now: datetime) -> Invitation:
    """Mark the invitation used; the conditional UPDATE makes two racing claims yield one."""
    invitation = find_invitation(token)
    claimed = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(used_at=now)
    if not claimed:
        raise InvitationUsed()
    return invitation


def _write_answers(response: Response, cleaned: list[CleanAnswer]) -> None:
    answers = Answer.objects.bulk_create(
        [
            Answer(
                response=response,
                question=item.question,
                number=item.number,
                text=item.text,
                choice=item.choice,
            )
            for item in cleaned
        ]
    )
    links = [
        Answer.choices.through(answer_id=answer.pk, choice_id=choice.pk)
        for answer, item in zip(answers, cleaned, strict=True)
        for choice in item.choices
    ]
    Answer.choices.through.objects.bulk_create(links)


def submit_response(
    *,
    survey: Survey,
    answers: Mapping[str, Any],
    unit: OrgUnit | None = None,
    token: str | None = None,
    channel: str = Response.Channel.WEB,
    meta: Mapping[str, Any] | None = None,
) -> Response:
    """Validate and store one response with its answers, atomically.

    `token` (a personal invitation) fixes the unit and is used up; otherwise `unit` is the
    public link's unit. `meta` may carry respondent_key, segment, language, external_id and
    submitted_at (imports). Employee surveys keep no respondent key and no invitation link;
    anonymous surveys also keep only the day of submission, so a response cannot be traced
    back to a person.
    Raises SurveyClosed, InvitationNotFound/Used/Expired, UnknownUnit or InvalidAnswers;
    nothing is written when it raises.
    """
    meta = dict(meta or {})
    if survey.status != Survey.Status.OPEN:
        raise SurveyClosed()
    cleaned, errors = clean_answers(questions_for(survey), answers)
    if errors:
        raise InvalidAnswers(errors)
    now = timezone.now()
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
        response = Response.objects.create(
            survey=survey,
            unit=_check_unit(survey, unit),
            channel=channel,
            **_response_fields(survey, invitation, meta, now),
        )
        _write_answers(response, cleaned)
        mark_scores_dirty(survey_id=survey.pk, period=response.period)
        notify_response_submitted(survey=survey, response_ids=[response.pk])
    return response


def _response_fields(
    survey: Survey, invitation: Invitation | None, meta: dict[str, Any], now: datetime
) -> dict[str, Any]:
    submitted_at = meta.get("submitted_at") or now
    fields = {
        "period": survey.period_for(submitted_at),
        "segment": meta.get("segment") or {},
        "language": meta.get("language") or "",
        "external_id": meta.get("external_id") or "",
    }
    if survey.anonymous:
        day = timezone.localtime(submitted_at).replace(hour=0, minute=0, second=0, microsecond=0)
        return {**fields, "submitted_at": day, "invitation": None, "respondent_key": ""}
    if survey.is_employee:
        # Confidential, not anonymous: the exact time stays, but neither a respondent key nor
        # the invitation (whose contact and id name the employee) is kept with the answers.
        return {**fields, "submitted_at": submitted_at, "invitation": None, "respondent_key": ""}
    return {
        **fields,
        "submitted_at": submitted_at,
        "invitation": invitation,
        "respondent_key": meta.get("respondent_key") or "",
    }


def mark_scores_dirty(*, survey_id: int, period: str) -> None:
    """Record that (survey, period) needs a recompute and queue one after commit.

    At most one recompute per cell is queued at a time; later submissions only bump
    `marked_at`, which the running task notices and re-queues itself for. The mark is made
    twice: in the transaction, so it is stored with the answers even if the broker is down,
    and again after commit, so a recompute that started before the commit (and so could not
    see these answers) finds a newer mark and runs once more instead of settling the cell.
    """
    _mark_dirty(survey_id=survey_id, period=period)
    # Robust: the answers are committed by then; if this step fails (database gone for a
    # moment), the in-transaction mark stays for the sweep and the respondent still gets a
    # success rather than an error inviting a duplicate resubmission.
    transaction.on_commit(
        lambda: _mark_dirty_and_queue(survey_id=survey_id, period=period), robust=True
    )


def _mark_dirty(*, survey_id: int, period: str) -> None:
    now = timezone.now()
    DirtyScoreCell.objects.bulk_create(
        [DirtyScoreCell(survey_id=survey_id, period=period, marked_at=now)], ignore_conflicts=True
    )
    DirtyScoreCell.objects.filter(survey_id=survey_id, period=period).update(marked_at=now)


def _mark_dirty_and_queue(*, survey_id: int, period: str) -> None:
    _mark_dirty(survey_id=survey_id, period=period)
    cells = DirtyScoreCell.objects.filter(survey_id=survey_id, period=period, queued_at=None)
    if cells.update(queued_at=timezone.now()):
        queue_recompute(survey_id=survey_id, period=period)


def queue_recompute(*, survey_id: int, period: str, delay: float = 0.0) -> bool:
    """Send the recompute task (after `delay` seconds); if the broker is unreachable leave
    the cell for the sweep.

    In eager mode (no broker) `.delay` runs the recompute inline, so an exception can also
    come from the recompute itself: it is logged as an error with its traceback rather than
    as a broker problem. Either way the submission stands and the sweep retries the cell.
    """
    try:
        recompute_scores_task.apply_async((survey_id, period), countdown=delay or None)
    except Exception:  # broker down, or (eager) the recompute failed: the sweep retries
        if recompute_scores_task.app.conf.task_always_eager:
            logger.exception("Recompute of survey %s %s failed", survey_id, period)
        else:
            logger.warning(
                "Could not queue recompute of survey %s %s", survey_id, period, exc_info=True
            )
        DirtyScoreCell.objects.filter(survey_id=survey_id, period=period).update(queued_at=None)
        return False
    return True
