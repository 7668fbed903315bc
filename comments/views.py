"""Leader pages of open comments: a unit's themes (low vs high scorers, trend, examples) and
its comments per theme or by search. Views pick the survey and unit the user may read and
delegate the reading to the selectors, which apply the release and group-size rules."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from surveys.models import OrgUnit, Survey
from surveys.selectors import readable_surveys, unit_by_code
from surveys.visibility import has_role, readable_units, top_readable_units

from .forms import CommentSearchForm, ThemePickerForm
from .models import Theme
from .selectors import comments_page, latest_run
from .theme_selectors import unit_themes

PAGE_SIZE = 25


def _survey_and_unit(request: HttpRequest) -> tuple[Survey, OrgUnit]:
    """The survey and unit asked for (default: the newest survey with themes, the top of the
    user's tree); unknown and out-of-scope ids answer alike (404)."""
    if not has_role(request.user):
        raise PermissionDenied("You do not manage any unit yet; ask an administrator.")
    surveys = readable_surveys(request.user)
    survey_id = request.GET.get("survey", "")
    if survey_id:
        survey = surveys.filter(pk=survey_id).first() if survey_id.isdigit() else None
    else:
        survey = surveys.filter(theme_runs__status="done").first() or surveys.first()
    if survey is None:
        raise Http404("There is no survey with this id.")
    code = request.GET.get("unit", "")
    unit = (
        unit_by_code(request.user, code)
        if code
        else next(iter(top_readable_units(request.user)), None)
    )
    if unit is None:
        raise Http404("There is no unit with this code.")
    return survey, unit


@login_required
def unit_themes_page(request: HttpRequest) -> HttpResponse:
    """Themes of a unit's comments: the three that most separate low from high scorers first."""
    survey, unit = _survey_and_unit(request)
    picker = ThemePickerForm(
        initial={"survey": survey.pk, "unit": unit.code},
        surveys=readable_surveys(request.user),
        units=readable_units(request.user),
    )
    context = {
        "data": unit_themes(request.user, survey, unit),
        "survey": survey,
        "unit": unit,
        "picker": picker,
        "search": CommentSearchForm(),
        "minimum": settings.COMMENT_MIN_RESPONDENTS,
        "nav_current": "comments",
    }
    return render(request, "comments/unit_themes.html", context)


@login_required
def comments_list_page(request: HttpRequest) -> HttpResponse:
    """A unit's comments, masked, for one theme or a search, in an order unrelated to time."""
    survey, unit = _survey_and_unit(request)
    theme = None
    theme_id = request.GET.get("theme", "")
    if theme_id:
        theme = Theme.objects.filter(
            pk=theme_id if theme_id.isdigit() else 0, run__survey=survey
        ).first()
        if theme is None:
            raise Http404("There is no theme with this id.")
    search = CommentSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    page_number = request.GET.get("page", "1")
    number = int(page_number) if page_number.isdigit() and int(page_number) > 0 else 1
    comments, total = comments_page(
        request.user,
        survey,
        unit=unit,
        theme=theme,
        search=query,
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
    )
    page = Paginator(range(total), PAGE_SIZE).get_page(number)
    context = {
        "survey": survey,
        "unit": unit,
        "theme": theme,
        "comments": comments,
        "total": total,
        "page": page,
        "search": search,
        "query": query,
        "run": latest_run(survey),
        "nav_current": "comments",
    }
    return render(request, "comments/comments.html", context)
