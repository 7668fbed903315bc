"""Outcome imports: a read-only history and an upload page that runs the import service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join

from common.roles import acting_user

from ..models import OutcomeImport
from ..services.outcomes import DENOMINATOR, HEADER, import_outcome_file

SHOWN_FIELDS = (
    "file_name",
    "status",
    "lines_total",
    "lines_written",
    "uploaded_by",
    "created_at",
    "problems",
)
UPLOAD_TEMPLATE = "admin/linkage/outcomeimport/upload.html"


class OutcomeUploadForm(forms.Form):
    file = forms.FileField(
        help_text=(
            f"CSV (UTF-8) with the header {','.join(HEADER)}, optionally ,{DENOMINATOR}: what a "
            "mean or rate is taken over (customers for retention), by which parents are "
            "weighted; without it, by the number of units with a value."
        )
    )
    skip_bad = forms.BooleanField(
        required=False,
        label="Skip bad lines",
        help_text="Write the good lines; otherwise one bad line refuses the whole file.",
    )
    create_metrics = forms.BooleanField(
        required=False,
        label="Create missing metrics",
        help_text="Unknown metric keys become new outcome metrics.",
    )


@admin.register(OutcomeImport)
class OutcomeImportAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "file_name",
        "status",
        "lines_total",
        "lines_written",
        "uploaded_by",
    ]
    list_filter = ["status"]
    search_fields = ["file_name"]
    fields = SHOWN_FIELDS
    readonly_fields = SHOWN_FIELDS
    change_list_template = "admin/linkage/outcomeimport/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # imports are made through the upload page, never typed in

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_upload_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("linkage.add_outcomeimport")

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "can_upload": self.has_upload_permission(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        upload = self.admin_site.admin_view(self.upload_view)
        return [path("upload/", upload, name="linkage_outcomeimport_upload"), *super().get_urls()]

    def upload_view(self, request: HttpRequest) -> TemplateResponse:
        """Upload a CSV; the import service checks every line and records the outcome."""
        if not self.has_upload_permission(request):
            raise PermissionDenied
        form = OutcomeUploadForm(request.POST or None, request.FILES or None)
        record = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            record = import_outcome_file(
                lines=upload,
                skip_bad=form.cleaned_data["skip_bad"],
                create_metrics=form.cleaned_data["create_metrics"],
                uploaded_by=acting_user(request.user),
                file_name=upload.name,
            )
            self._report(request, record)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Upload outcomes",
            "form": form,
            "record": record,
        }
        return TemplateResponse(request, UPLOAD_TEMPLATE, context)

    def _report(self, request: HttpRequest, record: OutcomeImport) -> None:
        summary = f"{record.lines_written} of {record.lines_total} lines written."
        if record.status == OutcomeImport.Status.REFUSED:
            self.message_user(request, f"Refused, nothing written: {summary}", messages.ERROR)
        elif record.status == OutcomeImport.Status.PARTIAL:
            self.message_user(request, f"Bad lines skipped: {summary}", messages.WARNING)
        else:
            self.message_user(request, f"Imported: {summary}", messages.SUCCESS)

    @admin.display(description="problems")
    def problems(self, record: OutcomeImport) -> str:
        if not record.errors:
            return "—"
        items = format_html_join(
            "",
            "<li>{}{}</li>",
            ((_where(error), error["message"]) for error in record.errors),
        )
        return format_html("<ul>{}</ul>", items)


def _where(error: dict) -> str:
    """ "line 3: " for a file's problem, "item 2: " for a list's, "" for a summary."""
    for position in ("line", "item"):
        if error.get(position) is not None:
            return f"{position} {error[position]}: "
    return ""
