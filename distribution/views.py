"""Pages of distribution: unsubscribe (public), response rates and the follow-up case list
(managers, scoped to their units). Views check input and delegate to selectors and services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from common.roles import acting_user
from surveys.models import OrgUnit
from surveys.visibility import has_role, readable_units, scoped, top_readable_units

from .exceptions import DistributionError
from .forms import CaseCloseForm, CaseUpdateForm, RatesForm
from .models import FollowUpCase
from .selectors import case_figures, cases_for, response_rates, wave_surveys
from .services.cases import close_case, update_case
from .services.sending import unsubscribe

CASES_SHOWN = 200


# No CSRF token: mail clients' one-click unsubscribe posts without one, and the signed token
# in the address is itself the proof that the request comes from the e-mail.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for confirmation (mail scanners follow links); POST unsubscribes. The
    one-click POST of mail clients (List-Unsubscribe-Post) lands here too."""
    if request.method == "POST":
        contact = unsubscribe(token=token)
        if contact is None:
            return render(request, "distribution/unsubscribe.html", {"invalid": True}, status=400)
        return render(request, "distribution/unsubscribe.html", {"done": True})
    return render(request, "distribution/unsubscribe.html", {})


def _reader(request: HttpRequest) -> User:
    user = acting_user(request.user)
    if not has_role(user):
        raise PermissionDenied("You do not manage any unit yet; ask an administrator.")
    return user


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """The reader's follow-up cases, overdue flagged, and per-unit time to close."""
    user = _reader(request)
    status = request.GET.get("status", "active")
    overdue = request.GET.get("overdue") == "1"
    cases = list(cases_for(user, status=status, overdue=overdue)[:CASES_SHOWN])
    context = {
        "cases": cases,
        "status": status,
        "overdue": overdue,
        "figures": case_figures(user),
        "statuses": [("active", "Open and in progress"), *FollowUpCase.Status.choices],
        "nav_current": "cases",
    }
    return render(request, "distribution/cases.html", context)


def _case(user: User, pk: int) -> FollowUpCase:
    case = scoped(FollowUpCase.objects.select_related("unit", "owner", "survey"), user)
    found = case.filter(pk=pk).first()
    if found is None:  # unknown and out of scope answer alike
        raise Http404("There is no such case.")
    return found


def _owners(case: FollowUpCase):
    """Managers of the case's unit and of the units above it."""
    units = [*case.unit.ancestors(), case.unit]
    return (
        User.objects.filter(managed_units__in=units, is_active=True).distinct().order_by("username")
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    case = _case(user, pk)
    update_form = CaseUpdateForm(owners=_owners(case), initial={"owner": case.owner_id})
    close_form = CaseCloseForm(prefix="close")
    if request.method == "POST":
        action = request.POST.get("action")
        form: CaseCloseForm | CaseUpdateForm
        if action == "close":
            form = close_form = CaseCloseForm(request.POST, prefix="close")
        else:
            form = update_form = CaseUpdateForm(request.POST, owners=_owners(case))
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "close":
                    close_case(case=case, user=user, outcome=data["outcome"], note=data["note"])
                else:
                    update_case(case=case, user=user, owner=data["owner"], note=data["note"])
            except DistributionError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Case closed." if action == "close" else "Saved.")
                return redirect("distribution:case", pk=case.pk)
    others = cases_for(user, status="").filter(customer_id=case.customer_id).exclude(pk=case.pk)
    context = {
        "case": case,
        "update_form": update_form,
        "close_form": close_form,
        "other_cases": list(others[:20]) if case.customer_id else [],
        "nav_current": "cases",
    }
    return render(request, "distribution/case.html", context)


@login_required
def rates(request: HttpRequest) -> HttpResponse:
    """Invited, answered and response rate per unit and wave (or one survey)."""
    user = _reader(request)
    form = RatesForm(request.GET or None, units=readable_units(user))
    table = None
    unit: OrgUnit | None = None
    if form.is_valid():
        data = form.cleaned_data
        unit = data["unit"] or next(iter(top_readable_units(user)), None)
        surveys = wave_surveys(data["schedule"]) if data["schedule"] else []
        if data["survey"] and not surveys:
            surveys = [data["survey"]]
        if unit is not None and surveys:
            table = response_rates(surveys=surveys, unit=unit)
    context = {"form": form, "table": table, "unit": unit, "nav_current": "rates"}
    return render(request, "distribution/rates.html", context)
