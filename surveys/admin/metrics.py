"""Metric catalogue and a read-only list of metric values (suppression shown, never values)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from ..models import Metric, MetricValue
from ..selectors import metric_values
from ..services.metrics import ensure_metrics_for_questions, save_metric
from ..visibility import has_role

HIDDEN = "hidden (below threshold)"
SHOWN_FIELDS = ("metric", "unit", "period", "shown_value", "shown_ci", "shown_n", "source")


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "name",
        "source",
        "chain_stage",
        "perspective",
        "level",
        "direction",
        "aggregation",
        "unit_label",
    ]
    list_display_links = ["key", "name"]
    list_editable = ["chain_stage", "perspective", "level", "direction", "aggregation"]
    list_filter = ["source", "chain_stage", "perspective", "level"]
    search_fields = ["key", "name", "description"]
    actions = ["sync_from_questions"]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_sync_metrics": self.has_change_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def save_model(self, request: HttpRequest, obj: Metric, form, change: bool) -> None:
        save_metric(metric=obj, changed_fields=form.changed_data if change else ())

    def get_urls(self):
        sync = self.admin_site.admin_view(require_POST(self.sync_view))
        return [path("sync/", sync, name="surveys_metric_sync"), *super().get_urls()]

    def sync_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """Changelist button: create metrics for question metric keys that have none."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        self._report_sync(request, ensure_metrics_for_questions())
        return HttpResponseRedirect(reverse("admin:surveys_metric_changelist"))

    @admin.action(description="Sync metrics from questions", permissions=["change"])
    def sync_from_questions(self, request: HttpRequest, queryset) -> None:
        self._report_sync(request, ensure_metrics_for_questions())

    def _report_sync(self, request: HttpRequest, created: int) -> None:
        message = f"{created} new metric(s) created from question metric keys."
        self.message_user(request, message, messages.SUCCESS)


@admin.register(MetricValue)
class MetricValueAdmin(admin.ModelAdmin):
    list_display = ["metric", "unit", "period", "shown_value", "shown_ci", "shown_n", "source"]
    list_filter = ["metric", "period", "unit__level", "suppressed", "source"]
    search_fields = ["unit__code", "unit__name", "metric__key"]
    fields = SHOWN_FIELDS
    readonly_fields = SHOWN_FIELDS

    def get_queryset(self, request: HttpRequest):
        # The selector masks suppressed cells; the visibility policy limits the units.
        return metric_values(reader=request.user)

    # Reading follows the visibility policy, like the API and the dashboards: a role (leader,
    # analyst, superuser, unit manager) is enough, whatever model permissions the database
    # holds; the queryset then limits the rows to the units that role may read.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return has_role(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="value", ordering="value")
    def shown_value(self, row: MetricValue) -> str:
        if row.suppressed:
            return HIDDEN
        return "—" if row.value is None else f"{row.value:.2f}"

    @admin.display(description="95% CI")
    def shown_ci(self, row: MetricValue) -> str:
        if row.suppressed or row.ci_low is None or row.ci_high is None:
            return "—"
        return f"{row.ci_low:.2f} – {row.ci_high:.2f}"

    @admin.display(description="n")
    def shown_n(self, row: MetricValue) -> str:
        return "—" if row.suppressed or row.n is None else str(row.n)
