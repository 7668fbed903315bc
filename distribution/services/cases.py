"""Follow-up cases: opened for detractors and unhappy customers who can be contacted, worked
and closed by the unit's managers."""

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.services import record_event
from surveys.models import Answer, Question, Response
from surveys.visibility import can_read_unit

from ..exceptions import CaseClosed, InvalidCaseUpdate
from ..models import Contact, FollowUpCase

MAX_NOTE_LENGTH = 5000
REASON_LABELS: dict[str, str] = {Question.Type.NPS: "NPS", Question.Type.CSAT: "CSAT"}


def _trigger(csat_max: int) -> Q:
    """Answers that call for a follow-up: NPS 0–6 (detractors) or CSAT at most `csat_max`."""
    return Q(question__type=Question.Type.NPS, number__lte=6) | Q(
        question__type=Question.Type.CSAT, number__lte=csat_max
    )


def open_follow_up_cases(*, response_ids: list[int]) -> int:
    """Open one case per response among `response_ids` with a detractor NPS or a low CSAT
    whose customer can be contacted (an invitation to an address, or a known customer id
    whose contact has not unsubscribed). Employee and anonymous surveys never open a case.
    A response with a case already is skipped, so a retry opens nothing twice. Returns how
    many were opened."""
    triggers = (
        Answer.objects.filter(_trigger(settings.FOLLOW_UP_CSAT_MAX), response_id__in=response_ids)
        .filter(response__survey__audience="customer", response__survey__anonymous=False)
        .exclude(response__case__isnull=False)
        .select_related("question", "response__invitation", "response__unit")
        .order_by("response_id", "question__order")
    )
    cases: dict[int, FollowUpCase] = {}
    for answer in triggers:
        response = answer.response
        if response.pk in cases:
            continue
        contact = _contact_of(response)
        if contact is None:
            continue
        cases[response.pk] = FollowUpCase(
            response=response,
            survey_id=response.survey_id,
            unit=response.unit,
            customer_id=response.respondent_key,
            contact=contact,
            reason=f"{REASON_LABELS[answer.question.type]} {answer.number:g}",
            owner=response.unit.managers.order_by("pk").first(),
            due_at=FollowUpCase.due_from(timezone.now()),
        )
    with transaction.atomic():
        created = FollowUpCase.objects.bulk_create(cases.values(), ignore_conflicts=True)
    return len(created)


def _contact_of(response: Response) -> str | None:
    """The address to call back, or None when the customer cannot (or asked not to) be
    contacted."""
    invitation = response.invitation
    condition = Q(pk__in=[])
    if invitation is not None and invitation.contact:
        condition |= Q(email=invitation.contact.lower())
    if response.respondent_key:
        condition |= Q(customer_id=response.respondent_key)
    known = Contact.objects.filter(condition).first()
    if known is not None and known.unsubscribed:
        return None
    if invitation is not None and invitation.contact:
        return invitation.contact
    return known.email if known is not None else None


def _locked(case: FollowUpCase, user: User) -> FollowUpCase:
    locked = FollowUpCase.objects.select_for_update().select_related("unit").get(pk=case.pk)
    if not can_read_unit(user, locked.unit):
        raise PermissionDenied("This case belongs to a unit you do not manage.")
    if locked.status == FollowUpCase.Status.CLOSED:
        raise CaseClosed()
    return locked


def _append_note(case: FollowUpCase, user: User, note: str) -> None:
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidCaseUpdate(f"A note has at most {MAX_NOTE_LENGTH} characters.")
    if note:
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        case.notes = f"{case.notes}\n{stamp} {user.get_username()}: {note}".strip()


def update_case(
    *, case: FollowUpCase, user: User, owner: User | None = None, note: str = ""
) -> FollowUpCase:
    """Take a case in hand: set its owner (who must read its unit), add a note; an open case
    becomes in progress. Raises CaseClosed, InvalidCaseUpdate or PermissionDenied."""
    with transaction.atomic():
        locked = _locked(case, user)
        if owner is not None:
            if not can_read_unit(owner, locked.unit):
                raise InvalidCaseUpdate(f"{owner.get_username()} does not manage this unit.")
            locked.owner = owner
        _append_note(locked, user, note)
        locked.status = FollowUpCase.Status.IN_PROGRESS
        locked.save(update_fields=["owner", "notes", "status", "updated_at"])
        record_event(user, "case.updated", locked, {"status": locked.status})
    return locked


def close_case(*, case: FollowUpCase, user: User, outcome: str, note: str = "") -> FollowUpCase:
    """Close a case with its outcome (and a note); time-to-close runs from its opening.
    Raises CaseClosed, InvalidCaseUpdate (unknown outcome) or PermissionDenied."""
    if outcome not in FollowUpCase.Outcome.values:
        raise InvalidCaseUpdate("Choose the outcome of the call.")
    with transaction.atomic():
        locked = _locked(case, user)
        _append_note(locked, user, note)
        locked.status = FollowUpCase.Status.CLOSED
        locked.outcome = outcome
        locked.closed_at = timezone.now()
        locked.owner = locked.owner or user
        locked.save()
        record_event(user, "case.closed", locked, {"outcome": outcome})
    return locked
