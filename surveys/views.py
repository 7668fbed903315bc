"""Respondent pages: the home page, the public survey link, personal invitations, thanks.

Views check the request's shape and hand answers to `submit_response`, the one write path;
domain errors become pages with the error's own status code and safe message. A public
link takes one answer per browser and a limited number per address and round
(`public_link`); an employee survey's public link is off unless switched on.
"""

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from common.net import client_address
from common.ratelimit import hit_public_submit

from . import public_link
from .definition import SurveyDefinition, definition_for, definition_for_slug
from .exceptions import (
    InvalidAnswers,
    InvitationExpired,
    InvitationNotFound,
    InvitationRequired,
    InvitationUsed,
    SurveyClosed,
    SurveyError,
    UnknownUnit,
)
from .forms import ResponseForm
from .languages import SWITCH_PARAMETER, choose_language, offered_languages
from .models import OrgUnit, Survey
from .respondent_cache import CSRF_SLOT, KeptPage, keep_page, kept_page, known_unit, page_key
from .selectors import (
    frontline_units,
    open_customer_surveys,
)
from .selectors import (
    public_survey as answerable_survey,
)
from .services import find_invitation, submit_response
from .services.releases import results_visible_from


def _problem(request: HttpRequest, *, status: int, heading: str, message: str) -> HttpResponse:
    context = {"heading": heading, "message": message}
    return render(request, "surveys/problem.html", context, status=status)


def _domain_problem(request: HttpRequest, error: SurveyError) -> HttpResponse:
    headings = {
        InvitationNotFound: _("Link not found"),
        InvitationUsed: _("Already answered"),
        InvitationExpired: _("This link has expired"),
        InvitationRequired: _("Please use your personal link"),
        SurveyClosed: _("This survey is closed"),
        UnknownUnit: _("This link is incomplete"),
    }
    # The errors' own messages are English (the API's); these are the respondent's language.
    messages = {
        InvitationNotFound: _(
            "This invitation link is not valid. Please check the link in your message."
        ),
        InvitationUsed: _("This invitation has already been answered. Thank you!"),
        InvitationExpired: _("This invitation has expired."),
        InvitationRequired: _(
            "This survey is answered through personal invitation links only. Please use the "
            "link in your invitation."
        ),
        SurveyClosed: _("This survey is not accepting answers."),
    }
    heading = headings.get(type(error), _("Something is not right"))
    message = messages.get(type(error), error.message)
    return _problem(request, status=error.status_code, heading=heading, message=message)


def _use_language(request: HttpRequest, survey: Survey, invitation_language: str = "") -> str:
    """Activate the respondent's language for this request (`languages.choose_language`);
    LocaleMiddleware then sends it as Content-Language."""
    language = choose_language(
        survey,
        requested=request.GET.get(SWITCH_PARAMETER, ""),
        invitation_language=invitation_language,
        accept=request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
    )
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language


def _language_links(request: HttpRequest, survey: Survey) -> list[dict[str, object]]:
    """The page's language switcher: the same address in each of the survey's languages."""
    offered = offered_languages(survey)
    if len(offered) < 2:
        return []
    names = dict(settings.LANGUAGES)
    current = translation.get_language()
    links = []
    for code in offered:
        query = request.GET.copy()
        query[SWITCH_PARAMETER] = code
        links.append(
            {
                "code": code,
                "name": names.get(code, code),
                "url": f"{request.path}?{query.urlencode()}",
                "current": code == current,
            }
        )
    return links


def _too_many(request: HttpRequest) -> HttpResponse | None:
    """A 429 page once this address posted more than PUBLIC_SUBMIT_RATE answers (the API's
    limit, counted together with the API's public submissions); None while it may post."""
    verdict = hit_public_submit(client_address(request))
    if verdict.allowed:
        return None
    message = _("Too many answers were sent from your network just now. Please try again later.")
    page = _problem(request, status=429, heading=_("Please wait a moment"), message=message)
    page["Retry-After"] = str(verdict.wait_seconds)
    return page


def _survey_not_found(request: HttpRequest) -> HttpResponse:
    message = _("There is no survey at this address. Please check the link you were given.")
    return _problem(request, status=404, heading=_("Survey not found"), message=message)


def _resolve_unit(
    definition: SurveyDefinition, code: str
) -> tuple[OrgUnit | None, QuerySet[OrgUnit] | None]:
    """The unit named by the link's `u`, else the units to pick from (None when there are none)."""
    survey = definition.survey
    unit = known_unit(definition, code) if code else None
    if unit is not None:
        return unit, None
    if not survey.root_unit_id:
        return None, None
    choices = frontline_units(survey)
    return None, (choices if choices.exists() else None)


def _submit(
    request: HttpRequest,
    form: ResponseForm,
    *,
    definition: SurveyDefinition,
    unit: OrgUnit | None = None,
    token: str | None = None,
) -> HttpResponse | None:
    """Hand shape-valid answers to the service: a redirect on success, None to show errors."""
    survey = definition.survey
    form.is_valid()
    if form.has_question_errors():
        return None
    language = translation.get_language()
    try:
        submit_response(
            survey=survey,
            answers=form.answers(),
            unit=unit or form.selected_unit(),
            token=token,
            meta={"language": language},
            definition=definition,
        )
    except InvalidAnswers as error:
        form.apply_errors(error.errors)
        return None
    except UnknownUnit as error:
        if not form.has_unit_field:
            return _domain_problem(request, error)
        form.add_unit_error(error.message)
        return None
    except SurveyError as error:
        return _domain_problem(request, error)
    thanks = reverse("surveys:thanks", kwargs={"slug": survey.slug})
    if language != offered_languages(survey)[0]:
        thanks += "?" + urlencode({SWITCH_PARAMETER: language})
    return redirect(thanks)


def _blank_questions(definition: SurveyDefinition, form: ResponseForm) -> str | None:
    """The question block of a form nobody has answered yet, rendered once per definition and
    language: it is the same for every respondent, and rendering the questions is most of
    what a respondent page costs. Kept on the definition, so any edit drops it."""
    if form.is_bound:
        return None
    language = translation.get_language()
    if language not in definition.rendered:
        block = render_to_string("surveys/_questions.html", {"entries": form.entries})
        definition.rendered[language] = block
    return definition.rendered[language]


def _render_form(
    request: HttpRequest,
    form: ResponseForm,
    *,
    definition: SurveyDefinition,
    unit: OrgUnit | None = None,
    preview: bool = False,
    keep_as: str | None = None,
) -> HttpResponse:
    """The respondent page; a blank one is rendered with a slot for the CSRF token and, with
    `keep_as`, kept for the next visitors of the same address (`respondent_cache`)."""
    survey = definition.survey
    context = {
        "survey": survey,
        "form": form,
        "blank_questions": _blank_questions(definition, form),
        "unit": unit,
        "preview": preview,
        "language_links": _language_links(request, survey),
    }
    if survey.is_confidential:
        context["results_visible_from"] = results_visible_from(survey)
    if form.is_bound:
        return render(request, "surveys/respond.html", context)
    context["csrf_token"] = CSRF_SLOT  # overrides the context processor's token
    html = render_to_string("surveys/respond.html", context, request)
    page = KeptPage(html, logo_origin=getattr(request, "brand_logo_origin", ""))
    keep_page(definition, keep_as, page)
    return page.response(request)


def _already_answered(request: HttpRequest) -> HttpResponse:
    message = _(
        "An answer was already given from this browser or network for this survey. "
        "Thank you for taking part. If you have not answered yet, please ask for a personal "
        "invitation link."
    )
    return _problem(request, status=429, heading=_("Already answered"), message=message)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Product overview with links to every open customer survey, at an example unit."""
    return render(request, "surveys/home.html", {"surveys": open_customer_surveys()})


@never_cache
@require_http_methods(["GET", "POST"])
def public_survey(request: HttpRequest, slug: str) -> HttpResponse:
    """The survey's public link, `?u=<unit code>` naming the store or team it is about.

    Staff may add `?preview=1` to see a survey in any status; nothing is saved from a preview.
    """
    definition = definition_for_slug(slug)
    preview = request.GET.get("preview") == "1" and request.user.is_staff
    if definition is None:
        return _survey_not_found(request)
    survey = definition.survey
    if survey.status == Survey.Status.DRAFT and not preview:
        return _survey_not_found(request)
    _use_language(request, survey)
    if not (survey.is_open or preview):
        return _domain_problem(request, SurveyClosed())
    if preview and request.method == "POST":
        message = _("Preview — answers are not saved.")
        return _problem(request, status=403, heading=_("Preview"), message=message)
    if not (survey.accepts_public_link or preview):
        return _domain_problem(request, InvitationRequired())
    if not preview and public_link.answered_from_here(request, survey):
        return _already_answered(request)
    keep_as = page_key(request) if request.method == "GET" and not preview else None
    page = kept_page(definition, keep_as)
    if page is not None:
        return page.response(request)
    unit, unit_choices = _resolve_unit(definition, request.GET.get("u", "").strip())
    if unit is None and unit_choices is None and not preview:
        message = _(
            "This link does not say which store or team it is about. "
            "Please use the full link you were given."
        )
        return _domain_problem(request, UnknownUnit(message))
    data = request.POST if request.method == "POST" else None
    form = ResponseForm(
        data,
        questions=definition.questions,
        unit_choices=unit_choices,
        kept_fields=definition.fields,
    )
    if data is not None:
        outcome = _too_many(request) or _submit(request, form, definition=definition, unit=unit)
        if outcome is not None:
            if outcome.status_code == 302:
                public_link.count_answer(request, outcome, survey)
            return outcome
    return _render_form(
        request, form, definition=definition, unit=unit, preview=preview, keep_as=keep_as
    )


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_survey(request: HttpRequest, token: str) -> HttpResponse:
    """A personal, single-use invitation link; the invitation fixes the unit."""
    try:
        invitation = find_invitation(token)
    except SurveyError as error:
        return _domain_problem(request, error)
    survey = invitation.survey
    _use_language(request, survey, invitation.language)
    if not survey.is_open:
        return _domain_problem(request, SurveyClosed())
    data = request.POST if request.method == "POST" else None
    definition = definition_for(survey)
    form = ResponseForm(data, questions=definition.questions, kept_fields=definition.fields)
    if data is not None:
        outcome = _too_many(request) or _submit(request, form, definition=definition, token=token)
        if outcome is not None:
            return outcome
    return _render_form(request, form, definition=definition, unit=invitation.unit)


@require_GET
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    """Shown after a submission; names the survey only, never anything about the response."""
    survey = answerable_survey(slug)
    if survey is None:
        return _survey_not_found(request)
    _use_language(request, survey)
    return render(request, "surveys/thanks.html", {"survey": survey})
