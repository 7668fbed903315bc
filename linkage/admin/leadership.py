"""Leadership admin: barometer proposals and votes, barometer history, audit log,
performance expectations and the initiative funnel.

Every write goes through a service. Proposing and voting is for the leadership team only;
everybody else with view permission sees the same pages read-only.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from common.admin import ReadOnlyAdmin, RoleAdmin, reads_by_role
from common.roles import LEADERSHIP_GROUP, acting_user, is_leader

from ..exceptions import BarometerError, ExpectationInvalid, InitiativeError
from ..forms import ExpectationForm, MoveInitiativeBackForm, ProposeBarometerForm, VoteForm
from ..leadership_selectors import funnel_summary
from ..models import (
    Barometer,
    BarometerProposal,
    BarometerVote,
    Initiative,
    PerformanceExpectation,
)
from ..presentation import (
    baseline_text,
    expectation_sentence,
    initiative_sentences,
    latest_text,
    target_text,
)
from ..services.barometer import (
    propose_barometer,
    tally,
    vote_on_barometer,
    withdraw_proposal,
)
from ..services.expectations import (
    create_expectation,
    delete_expectation,
    refresh_expectation_status,
)
from ..services.initiatives import (
    advance_initiative,
    move_initiative_back,
    save_initiative,
    verify_initiative_impact,
)

FORM_PAGE = "linkage/admin/form_page.html"
PROPOSAL_FIELDS = (
    *("metric", "rationale", "rule_text", "proposed_by", "status", "created_at", "decided_at"),
)


def form_page(request: HttpRequest, model_admin: admin.ModelAdmin, **context) -> HttpResponse:
    """A one-form admin page (propose a barometer, set an expectation)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "has_view_permission": model_admin.has_view_permission(request),
        **context,
    }
    return TemplateResponse(request, FORM_PAGE, context)


@admin.register(BarometerProposal)
class BarometerProposalAdmin(ReadOnlyAdmin):
    list_display = ["metric", "status", "rule_short", "votes_text", "proposed_by", "created_at"]
    list_filter = ["status", "rule"]
    list_select_related = ["metric", "proposed_by"]
    fields = PROPOSAL_FIELDS
    readonly_fields = PROPOSAL_FIELDS
    change_form_template = "linkage/admin/proposal_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_leader(request.user)

    def get_queryset(self, request: HttpRequest):
        leader_vote = Q(votes__voter__groups__name=LEADERSHIP_GROUP, votes__voter__is_active=True)
        return (
            super()
            .get_queryset(request)
            .annotate(
                approvals=Count(
                    "votes", filter=leader_vote & Q(votes__decision="approve"), distinct=True
                ),
                rejections=Count(
                    "votes", filter=leader_vote & Q(votes__decision="reject"), distinct=True
                ),
            )
        )

    @admin.display(description="rule")
    def rule_text(self, proposal: BarometerProposal) -> str:
        if proposal.rule == BarometerProposal.Rule.UNANIMOUS:
            return "Unanimous: every leader approves, none rejects"
        return f"Quorum: at least {proposal.quorum_share:.0%} of leaders approve"

    @admin.display(description="rule", ordering="rule")
    def rule_short(self, proposal: BarometerProposal) -> str:
        if proposal.rule == BarometerProposal.Rule.UNANIMOUS:
            return "Unanimous"
        return f"Quorum {proposal.quorum_share:.0%}"

    @admin.display(description="votes")
    def votes_text(self, proposal: BarometerProposal) -> str:
        # approvals and rejections are annotated by get_queryset.
        approvals, rejections = proposal.approvals, proposal.rejections  # type: ignore[attr-defined]
        return f"{approvals} approve, {rejections} reject"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/vote/", wrap(require_POST(self.vote_view)), name="linkage_vote"),
            path(
                "<int:object_id>/withdraw/",
                wrap(require_POST(self.withdraw_view)),
                name="linkage_withdraw",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ProposeBarometerForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                proposal = propose_barometer(
                    proposer=acting_user(request.user), **form.cleaned_data
                )
            except BarometerError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, "Proposal opened; leaders can now vote.")
                return HttpResponseRedirect(self._change_url(proposal.pk))
        return form_page(
            request, self, form=form, title="Propose the one barometer", submit="Propose"
        )

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        proposal = get_object_or_404(BarometerProposal, pk=object_id)
        is_open = proposal.status == BarometerProposal.Status.OPEN
        context = {
            **(extra_context or {}),
            "votes": proposal.votes.select_related("voter"),
            "standing": tally(proposal),
            "can_vote": is_open and is_leader(request.user),
            "can_withdraw": is_open and proposal.proposed_by_id == request.user.pk,
            "vote_form": VoteForm(),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def vote_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        proposal = get_object_or_404(BarometerProposal, pk=object_id)
        if not is_leader(request.user):
            raise PermissionDenied("Only members of the Leadership group may vote.")
        form = VoteForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Choose approve or reject.", messages.ERROR)
            return HttpResponseRedirect(self._change_url(proposal.pk))
        try:
            proposal = vote_on_barometer(
                voter=acting_user(request.user), proposal=proposal, **form.cleaned_data
            )
        except BarometerError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(
                request, f"Vote recorded. Proposal is {proposal.get_status_display()}."
            )
        return HttpResponseRedirect(self._change_url(proposal.pk))

    def withdraw_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        proposal = get_object_or_404(BarometerProposal, pk=object_id)
        if not is_leader(request.user):
            raise PermissionDenied("Only members of the Leadership group may withdraw.")
        try:
            withdraw_proposal(
                actor=acting_user(request.user),
                proposal=proposal,
                reason=request.POST.get("reason", ""),
            )
        except BarometerError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, "Proposal withdrawn.")
        return HttpResponseRedirect(self._change_url(proposal.pk))

    def _change_url(self, pk: int) -> str:
        return reverse("admin:linkage_barometerproposal_change", args=[pk])


@admin.register(BarometerVote)
class BarometerVoteAdmin(ReadOnlyAdmin):
    list_display = ["proposal", "voter", "decision", "comment", "updated_at", "created_at"]
    list_filter = ["decision"]
    list_select_related = ["proposal__metric", "voter"]


@admin.register(Barometer)
class BarometerAdmin(ReadOnlyAdmin):
    list_display = ["metric", "in_force", "started_at", "ended_at", "proposal"]
    list_select_related = ["metric", "proposal__metric"]
    list_filter = ["in_force"]


@admin.register(PerformanceExpectation)
class PerformanceExpectationAdmin(RoleAdmin):
    list_display = ["title", "status", "target_shown", "latest_shown", "why", "end_date"]
    list_filter = ["status", "metric"]
    list_select_related = ["metric", "unit", "owner"]
    actions = ["refresh_status"]
    fields = ["title", "metric", "unit", "segment_filter", "owner", "start_date", "end_date"]
    fields += ["baseline_period", "baseline_value", "baseline_n", "target_kind", "target_change"]
    fields += ["target_value", "status", "latest_period", "latest_value", "latest_n"]
    fields += ["latest_ci_low", "latest_ci_high", "status_checked_at", "why"]
    readonly_fields = ["baseline_value", "baseline_n", "target_value", "why"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_leader(request.user) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # baseline and target are computed: set a new expectation instead

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_leader(request.user) or super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: PerformanceExpectation) -> None:
        delete_expectation(actor=acting_user(request.user), expectation=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for expectation in queryset.select_related("metric", "unit"):
            delete_expectation(actor=acting_user(request.user), expectation=expectation)

    @admin.display(description="baseline → target")
    def target_shown(self, expectation: PerformanceExpectation) -> str:
        return f"{baseline_text(expectation)} → {target_text(expectation)}"

    @admin.display(description="latest")
    def latest_shown(self, expectation: PerformanceExpectation) -> str:
        return latest_text(expectation)

    @admin.display(description="why this status")
    def why(self, expectation: PerformanceExpectation) -> str:
        return expectation_sentence(expectation)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ExpectationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                create_expectation(owner=acting_user(request.user), **form.cleaned_data)
            except ExpectationInvalid as error:
                for field, field_messages in error.errors.items():
                    for message in field_messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                self.message_user(request, "Performance expectation set.")
                return HttpResponseRedirect(
                    reverse("admin:linkage_performanceexpectation_changelist")
                )
        return form_page(
            request, self, form=form, title="Set a performance expectation", submit="Save"
        )

    @admin.action(description="Refresh status now", permissions=["view"])
    def refresh_status(self, request: HttpRequest, queryset) -> None:
        for expectation in queryset.select_related("metric", "unit"):
            refresh_expectation_status(expectation)
        self.message_user(request, f"{queryset.count()} status(es) refreshed.")


@admin.register(Initiative)
class InitiativeAdmin(RoleAdmin):
    list_display = ["title", "stage", "unit", "owner", "claimed_impact", "verified_impact"]
    list_filter = ["stage"]
    list_select_related = ["unit", "owner"]
    search_fields = ["title", "description"]
    filter_horizontal = ["metrics"]
    readonly_fields = ["stage", "verified_impact", "verdict", "created_at"]
    actions = ["advance", "verify"]

    @admin.display(description="verification")
    def verdict(self, initiative: Initiative) -> str:
        sentences = initiative_sentences(initiative)
        if not sentences:
            return "Not measured yet."
        return format_html_join(mark_safe("<br>"), "{}", ((text,) for text in sentences))

    change_list_template = "linkage/admin/initiative_change_list.html"
    change_form_template = "linkage/admin/initiative_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return reads_by_role(request.user) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return reads_by_role(request.user) or super().has_change_permission(request, obj)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        context = {**(extra_context or {}), "funnel": funnel_summary()}
        return super().changelist_view(request, extra_context=context)

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        context = {**(extra_context or {}), "move_back_form": MoveInitiativeBackForm()}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def save_model(self, request: HttpRequest, obj: Initiative, form, change: bool) -> None:
        save_initiative(
            actor=acting_user(request.user), initiative=obj, changed_fields=form.changed_data
        )

    def get_urls(self):
        move_back = self.admin_site.admin_view(require_POST(self.move_back_view))
        return [
            path("<int:object_id>/move-back/", move_back, name="linkage_initiative_move_back"),
            *super().get_urls(),
        ]

    def move_back_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        initiative = get_object_or_404(Initiative, pk=object_id)
        if not self.has_change_permission(request, initiative):
            raise PermissionDenied
        form = MoveInitiativeBackForm(request.POST)
        try:
            if not form.is_valid():
                raise InitiativeError("Choose an earlier stage and say why.")
            move_initiative_back(
                actor=acting_user(request.user), initiative=initiative, **form.cleaned_data
            )
        except InitiativeError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, "Initiative moved back.")
        return HttpResponseRedirect(reverse("admin:linkage_initiative_change", args=[object_id]))

    @admin.action(description="Advance to the next stage", permissions=["change"])
    def advance(self, request: HttpRequest, queryset) -> None:
        self._each(
            request,
            queryset,
            lambda item: advance_initiative(actor=acting_user(request.user), initiative=item),
        )

    @admin.action(
        description="Verify impact (before vs after) and mark measured", permissions=["change"]
    )
    def verify(self, request: HttpRequest, queryset) -> None:
        self._each(
            request,
            queryset,
            lambda item: verify_initiative_impact(actor=acting_user(request.user), initiative=item),
        )

    def _each(self, request: HttpRequest, queryset, step) -> None:
        done = 0
        for initiative in queryset:
            try:
                step(initiative)
                done += 1
            except InitiativeError as error:
                self.message_user(request, error.message, messages.WARNING)
        self.message_user(request, f"{done} initiative(s) updated.")
