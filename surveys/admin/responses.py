"""Read-only view of identifiable responses and their answers.

Responses to anonymous or employee surveys are never listed one by one, for anyone (see
`selectors.individually_listable_responses`); their results exist only as aggregates.
"""

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.db.models import QuerySet
from django.http import HttpRequest

from ..models import Answer, Response
from ..selectors import individually_listable_responses
from ..services.erasure import erase_customers_of


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = ("question", "value")
    readonly_fields = ("question", "value")
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Answer]:
        queryset = super().get_queryset(request).select_related("question", "choice")
        return queryset.prefetch_related("choices").order_by("question__order", "question_id")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Answer")
    def value(self, answer: Answer) -> str:
        if answer.choice:
            return answer.choice.label
        picked = [choice.label for choice in answer.choices.all()]
        if picked:
            return ", ".join(picked)
        return answer.text if answer.number is None else f"{answer.number:g}"


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    """Identifiable responses only: see `individually_listable_responses` for what is left out."""

    list_display = ("id", "survey", "unit", "period", "channel", "respondent_key", "submitted_at")
    list_filter = (
        ("survey", RelatedOnlyFieldListFilter),
        ("unit", RelatedOnlyFieldListFilter),
        "period",
        "channel",
    )
    search_fields = ("respondent_key", "external_id")
    date_hierarchy = "submitted_at"
    inlines = (AnswerInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Response]:
        return individually_listable_responses(super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    actions = ("erase_customers",)

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    @admin.action(
        description="Erase these customers' personal data (scores stay)", permissions=["erase"]
    )
    def erase_customers(self, request: HttpRequest, queryset: QuerySet[Response]) -> None:
        erased = erase_customers_of(queryset, actor=request.user)
        self.message_user(
            request,
            f"{erased.responses} response(s) de-identified, {erased.comments} comment(s) "
            f"blanked, {erased.invitations} invitation(s) deleted.",
        )
