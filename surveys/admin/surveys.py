"""Survey authoring: surveys with their questions, question choices, the template
library page, and the invitations page that hands out personal links as a CSV file."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from common.net import public_base_url
from common.roles import acting_user

from ..exceptions import InvalidInvitationRequest, SlugTaken, SurveyError, UnknownUnit
from ..exports import invitation_rows
from ..languages import missing_translations
from ..models import Choice, Invitation, OrgUnit, Question, Survey
from ..selectors import questions_for, surveys_with_counts
from ..services import close_survey, issue_invitations, open_survey
from ..services.authoring import save_question
from ..services.library import create_survey_from_template
from ..services.metrics import ensure_metrics_for_questions
from ..services.releases import release_survey
from .forms import IssueInvitationsForm, SurveyAdminForm, SurveyFromTemplateForm
from .invitations import csv_download
from .logic import QuestionLogicForm, QuestionLogicFormSet

PUBLIC_LINK_WARNING = (
    "The public link of this employee survey is on. Anyone with the link can answer for any "
    "team, so a small team could be padded with made-up answers and its real answers read "
    "by subtraction. Answers through it are limited per browser and per network address, "
    "but personal invitations are the safe way to survey employees."
)

# Form field that shows each service error, by the service's own field name.
INVITATION_ERROR_FIELDS = {
    "count": "count",
    "expires_in_days": "expires_in_days",
    "contacts": "contacts_file",
}


class QuestionInline(admin.TabularInline):
    """The question list edits the English text; each question's own page (its change link)
    edits every language, so the table stays readable."""

    model = Question
    formset = QuestionLogicFormSet
    fields = (
        "order",
        "code",
        "type",
        "text_en",
        "required",
        "min_value",
        "max_value",
        "metric_key",
        "grid",
        "show_if_question",
        "show_if_operator",
        "show_if_value",
        "choice_summary",
    )
    readonly_fields = ("choice_summary",)
    ordering = ("order", "id")
    extra = 0
    show_change_link = True  # the question's own page edits its choices

    # Narrow inputs (the admin's default is a wide text box per column) keep the table on
    # one screen.
    INPUT_SIZES = {"text_en": 36, "metric_key": 14, "grid": 10, "show_if_question": 8}
    INPUT_SIZES |= {"show_if_value": 6, "code": 12}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in self.INPUT_SIZES:
            field.widget.attrs.update(size=self.INPUT_SIZES[db_field.name], **{"class": ""})
        return field

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        return super().get_queryset(request).annotate(choice_count=Count("choices"))

    # Once a survey has been opened, answers may exist: its questions keep their code and
    # type, and none are added or removed (make a new survey for a new questionnaire).
    def get_readonly_fields(self, request: HttpRequest, obj: Survey | None = None):
        if obj is not None and obj.status != Survey.Status.DRAFT:
            return (*self.readonly_fields, "code", "type")
        return self.readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Survey | None = None) -> bool:
        draft = obj is None or obj.status == Survey.Status.DRAFT
        return draft and super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Survey | None = None) -> bool:
        draft = obj is None or obj.status == Survey.Status.DRAFT
        return draft and super().has_delete_permission(request, obj)

    @admin.display(description="Choices")
    def choice_summary(self, question: Question) -> str:
        if not question.pk or not question.is_choice:
            return "—"
        return f"{getattr(question, 'choice_count', 0)} (edit via the question's link)"


@admin.register(Survey)
class SurveyAdmin(TranslationAdmin):
    form = SurveyAdminForm
    list_display = (
        "title",
        "status",
        "audience",
        "kind",
        "anonymous",
        "question_count",
        "response_count",
        "opened_at",
        "preview_link",
    )
    list_filter = ("status", "audience", "kind", "anonymous")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("root_unit",)
    readonly_fields = (
        "status",
        "opened_at",
        "closed_at",
        "public_link",
        "preview_link",
        "translations_missing",
    )
    fieldsets = (
        (
            None,
            {"fields": ("title", "slug", "intro", "thank_you", "audience", "kind", "root_unit")},
        ),
        (
            "Privacy",
            {
                "fields": (
                    "anonymous",
                    "anonymity_threshold",
                    "allow_public_link",
                    "reporting_attributes",
                    "release_mode",
                ),
                "description": "Employee and anonymous surveys: results become readable only "
                "when released (when the period ends or the survey is closed, or in batches "
                "of at least the threshold), never live; employee surveys are answered by "
                "personal invitation only unless the public link is allowed.",
            },
        ),
        (
            "Public link",
            {
                "fields": ("one_answer_per_browser", "public_answers_per_address"),
                "description": "One answer per person: a browser that answered sees "
                "“already answered”; answers per network address and round are limited. "
                "Personal invitations are single-use in any case.",
            },
        ),
        ("Reporting", {"fields": ("period_granularity",)}),
        (
            "Languages",
            {
                "fields": ("languages", "translations_missing"),
                "description": "Respondents see the survey in their language when it is "
                "listed here: from their invitation, the page's switcher or their browser; "
                "otherwise in the first language listed. Empty translations show English.",
            },
        ),
        ("Status", {"fields": ("status", "opened_at", "closed_at", "public_link", "preview_link")}),
    )
    inlines = (QuestionInline,)
    actions = ("open_selected", "close_selected", "release_selected")
    # Fixed once a survey launches: changing them would expose answers given under the old
    # promise (an employee survey turned customer, or a lower threshold, shows small groups).
    LAUNCH_FIXED_FIELDS = ("audience", "anonymous", "anonymity_threshold")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Survey]:
        return surveys_with_counts(super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Survey | None = None):
        if obj is not None and obj.status != Survey.Status.DRAFT:
            return (*self.readonly_fields, *self.LAUNCH_FIXED_FIELDS)
        return self.readonly_fields

    @admin.display(description="Questions", ordering="question_count")
    def question_count(self, survey: Survey) -> int:
        return survey.question_count  # type: ignore[attr-defined]  # annotated

    # None for employee and anonymous surveys (`surveys_with_counts`): shown as a dash.
    @admin.display(
        description="Responses", ordering="response_count", empty_value="— (released groups only)"
    )
    def response_count(self, survey: Survey) -> int | None:
        return survey.response_count  # type: ignore[attr-defined]  # annotated

    @admin.display(description="Preview")
    def preview_link(self, survey: Survey) -> str:
        if not survey.pk:
            return "—"
        url = survey.get_absolute_url() + "?preview=1"
        return format_html('<a href="{}" target="_blank" rel="noopener">Preview</a>', url)

    @admin.display(description="Missing translations")
    def translations_missing(self, survey: Survey) -> str:
        if not survey.pk:
            return "—"
        missing = missing_translations(survey, questions_for(survey))
        if not missing:
            return "None: every text is translated into the survey's languages."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{}: {}</li>", ((m.language, ", ".join(m.items)) for m in missing)
            ),
        )

    @admin.display(description="Public link")
    def public_link(self, survey: Survey) -> str:
        if not survey.pk:
            return "Shown once the survey is saved."
        if not survey.accepts_public_link:
            return "Off: answered by personal invitation only."
        # Unset PUBLIC_BASE_URL: a relative link, which opens on the address the admin is on.
        url = settings.PUBLIC_BASE_URL.rstrip("/") + survey.get_absolute_url()
        hint = " — add ?u=<unit code> to fix the unit" if survey.root_unit_id else ""
        return format_html('<a href="{}">{}</a>{}', url, url, hint)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        ensure_metrics_for_questions(form.instance.questions.exclude(metric_key=""))
        if form.instance.is_employee and form.instance.allow_public_link:
            self.message_user(request, PUBLIC_LINK_WARNING, messages.WARNING)

    @admin.action(description="Release due employee results now", permissions=["change"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet[Survey]) -> None:
        made = sum(
            release_survey(survey=survey, released_by=acting_user(request.user))
            for survey in queryset
        )
        self.message_user(
            request,
            f"{made} release(s) made. Periods still running are released when they end or "
            "the survey is closed (or in batches, if the survey releases in batches).",
            messages.SUCCESS,
        )

    @admin.action(description="Open selected surveys for answers", permissions=["change"])
    def open_selected(self, request: HttpRequest, queryset: QuerySet[Survey]) -> None:
        self._apply(request, queryset, open_survey, "opened")

    @admin.action(description="Close selected surveys", permissions=["change"])
    def close_selected(self, request: HttpRequest, queryset: QuerySet[Survey]) -> None:
        self._apply(request, queryset, close_survey, "closed")

    def _apply(self, request: HttpRequest, queryset: QuerySet[Survey], service, verb: str) -> None:
        done = 0
        for survey in queryset:
            try:
                service(survey=survey)
            except SurveyError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.log_change(request, survey, f"{verb.capitalize()} the survey.")
                done += 1
        if done:
            self.message_user(request, f"{done} survey(s) {verb}.", messages.SUCCESS)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("from-template/", wrap(self.from_template_view), name=f"{name}_from_template"),
            path(
                "<path:object_id>/invitations/",
                wrap(self.invitations_view),
                name=f"{name}_invitations",
            ),
            *super().get_urls(),
        ]

    def _page(self, request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
        form = context["form"]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "media": self.media + form.media,
            **context,
        }
        return TemplateResponse(request, f"admin/surveys/survey/{template}", context)

    def from_template_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = SurveyFromTemplateForm(request.POST or None, admin_site=self.admin_site)
        if request.method == "POST" and form.is_valid():
            try:
                survey = create_survey_from_template(**form.cleaned_data)
            except SurveyError as error:
                form.add_error("slug" if isinstance(error, SlugTaken) else None, error.message)
            else:
                self.log_addition(request, survey, "Created from a template.")
                self.message_user(request, f"Draft survey “{survey}” created.", messages.SUCCESS)
                return redirect("admin:surveys_survey_change", survey.pk)
        return self._page(request, "from_template.html", "New survey from a template", form=form)

    def invitations_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        survey = self.get_object(request, unquote(object_id))
        if survey is None:
            raise Http404("No such survey.")
        if not self.has_change_permission(request, survey):
            raise PermissionDenied
        form = IssueInvitationsForm(
            request.POST or None, request.FILES or None, admin_site=self.admin_site
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                invitations = issue_invitations(
                    survey=survey,
                    unit=data["unit"],
                    count=data["count"],
                    contacts=data["contacts_file"],
                    expires_in_days=data["expires_in_days"],
                    created_by=acting_user(request.user),
                )
            except SurveyError as error:
                form.add_error(_error_field(error), error.message)
            else:
                return _invitations_csv(survey, data["unit"], invitations, public_base_url(request))
        title = f"Issue invitations: {survey}"
        return self._page(request, "invitations.html", title, form=form, original=survey)


def _error_field(error: SurveyError) -> str | None:
    if isinstance(error, UnknownUnit):
        return "unit"
    if isinstance(error, InvalidInvitationRequest):
        return INVITATION_ERROR_FIELDS.get(error.field)
    return None


def _invitations_csv(
    survey: Survey, unit: OrgUnit, invitations: list[Invitation], base_url: str
) -> HttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    filename = f"invitations-{survey.slug}-{unit.code}-{stamp}.csv"
    return csv_download(invitation_rows(invitations, base_url=base_url), filename)


class ChoiceInline(TranslationTabularInline):
    model = Choice
    fields = ("order", "value", "label", "score")
    ordering = ("order", "id")
    extra = 0


@admin.register(Question)
class QuestionAdmin(TranslationAdmin):
    form = QuestionLogicForm
    list_display = ("code", "survey", "order", "type", "metric_key", "required")
    list_filter = ("type",)
    list_select_related = ("survey",)
    search_fields = ("code", "text", "metric_key", "survey__title")
    autocomplete_fields = ("survey",)
    inlines = (ChoiceInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Question | None = None):
        if obj is not None and obj.survey.status != Survey.Status.DRAFT:
            return ("survey", "code", "type")
        return ()

    def save_model(self, request, obj, form, change) -> None:
        save_question(question=obj)
