"""Admin of distribution: contacts (CSV upload, invite, bounces), the send log, reminder and
wave schedules (kept in step with their django-celery-beat periodic tasks) and cases.

Employee invitations' sends are listed to administrators only and never with a time."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from common.net import public_base_url
from common.roles import acting_user
from surveys.exceptions import SurveyError
from surveys.visibility import scoped

from .exceptions import DistributionError, InvalidContactFile
from .forms import ContactUploadForm, InviteContactsForm
from .models import Contact, FollowUpCase, ReminderSchedule, SendLog, Wave, WaveSchedule
from .services.contacts import import_contacts, read_contact_file
from .services.schedules import open_next_wave, save_reminder_schedule, save_wave_schedule
from .services.sending import invite_contacts, record_bounces, send_due_reminders

CONFIDENTIAL = Q(invitation__survey__audience="employee") | Q(invitation__survey__anonymous=True)


def _form_page(admin_view, request, form, title: str, intro: str, submit: str, **extra):
    context = {
        **admin_view.admin_site.each_context(request),
        "opts": admin_view.opts,
        "title": title,
        "media": admin_view.media + form.media,
        "form": form,
        "intro": intro,
        "submit_label": submit,
        **extra,
    }
    return TemplateResponse(request, "admin/distribution/form_page.html", context)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("email", "unit", "audience", "customer_id", "language", "reachable_mark")
    list_filter = ("audience", "unsubscribed", "bounced")
    list_select_related = ("unit",)
    search_fields = ("email", "customer_id", "unit__code")
    readonly_fields = ("unsubscribed", "bounced")
    actions = ("mark_bounced",)
    change_list_template = "admin/distribution/contact/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contact]:
        return scoped(super().get_queryset(request), request.user)

    @admin.display(description="Reachable", boolean=True)
    def reachable_mark(self, contact: Contact) -> bool:
        return contact.reachable

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("upload/", wrap(self.upload_view), name="distribution_contact_upload"),
            path("invite/", wrap(self.invite_view), name="distribution_contact_invite"),
            *super().get_urls(),
        ]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ContactUploadForm(request.POST or None, request.FILES or None)
        problems: list[tuple[int, str]] = []
        if request.method == "POST" and form.is_valid():
            try:
                result = import_contacts(
                    rows=read_contact_file(form.cleaned_data["file"]),
                    imported_by=acting_user(request.user),
                )
            except InvalidContactFile as error:
                problems = error.errors
                form.add_error("file", f"Nothing was imported: {error.total} bad line(s).")
            else:
                self.message_user(
                    request,
                    f"{result.created} contacts added, {result.updated} updated.",
                    messages.SUCCESS,
                )
                return redirect("admin:distribution_contact_changelist")
        intro = (
            "Upload a CSV file: unit_code,email (required), customer_id, language, audience "
            "(customer or employee), and any other columns as segment attributes. A contact "
            "already known by its e-mail address is updated. A file with a bad line imports "
            "nothing; every bad line is listed by number."
        )
        return _form_page(
            self, request, form, "Import contacts", intro, "Import", problems=problems
        )

    def invite_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = InviteContactsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            survey, unit = form.cleaned_data["survey"], form.cleaned_data["unit"]
            contacts = scoped(Contact.objects.all(), request.user)
            if unit is not None:
                contacts = contacts.filter(unit__path__startswith=unit.path)
            try:
                count = invite_contacts(
                    survey=survey,
                    contacts=contacts,
                    base_url=public_base_url(request),
                    invited_by=acting_user(request.user),
                )
            except (SurveyError, DistributionError) as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request, f"{count} invitations queued for e-mail.", messages.SUCCESS
                )
                return redirect("admin:distribution_sendlog_changelist")
        intro = (
            "Sends a personal link by e-mail to every contact of the survey's audience who "
            "has not been invited to it yet, leaving out unsubscribed and bounced addresses. "
            "Employee surveys: administrators only."
        )
        return _form_page(self, request, form, "Invite contacts by e-mail", intro, "Send")

    @admin.action(description="Mark as bounced (no more e-mail)")
    def mark_bounced(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        changed = record_bounces(
            emails=queryset.values_list("email", flat=True), recorded_by=acting_user(request.user)
        )
        self.message_user(request, f"{changed} contacts marked as bounced.", messages.SUCCESS)


@admin.register(SendLog)
class SendLogAdmin(admin.ModelAdmin):
    list_display = ("invitation_id", "survey", "contact", "kind", "number", "status", "sent_at")
    list_filter = ("status", "kind")
    list_select_related = ("invitation__survey", "contact")
    search_fields = ("contact__email",)
    readonly_fields = ("invitation", "contact", "kind", "number", "status", "error", "sent_at")
    exclude = ("base_url",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SendLog]:
        sends = scoped(super().get_queryset(request), request.user, field="invitation__unit")
        if not request.user.is_superuser:
            sends = sends.exclude(CONFIDENTIAL)
        return sends

    @admin.display(description="Survey")
    def survey(self, send: SendLog) -> str:
        return str(send.invitation.survey)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ReminderSchedule)
class ReminderScheduleAdmin(admin.ModelAdmin):
    list_display = ("survey", "after_days", "max_reminders", "active", "periodic_task")
    readonly_fields = ("periodic_task",)
    actions = ("remind_now",)

    def save_model(self, request, obj, form, change) -> None:
        save_reminder_schedule(schedule=obj)

    @admin.action(description="Send the reminders due now")
    def remind_now(self, request: HttpRequest, queryset: QuerySet[ReminderSchedule]) -> None:
        count = sum(send_due_reminders(schedule=schedule) for schedule in queryset)
        self.message_user(request, f"{count} reminders queued for e-mail.", messages.SUCCESS)


class WaveInline(admin.TabularInline):
    model = Wave
    fields = ("number", "survey", "opened_at", "closed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WaveSchedule)
class WaveScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "template", "frequency", "every_weeks", "active", "periodic_task")
    filter_horizontal = ("units",)
    readonly_fields = ("periodic_task", "base_url")
    inlines = (WaveInline,)
    actions = ("roll_over_now",)

    @admin.action(description="Open the next wave now (closes and releases the last one)")
    def roll_over_now(self, request: HttpRequest, queryset: QuerySet[WaveSchedule]) -> None:
        for schedule in queryset:
            wave = open_next_wave(schedule=schedule)
            if wave is None:
                self.message_user(
                    request,
                    f"{schedule}: inactive, or the last wave opened too recently.",
                    messages.WARNING,
                )
            else:
                self.message_user(request, f"{wave} opened.", messages.SUCCESS)

    def save_model(self, request, obj, form, change) -> None:
        obj.base_url = public_base_url(request)
        obj.save()

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        try:
            save_wave_schedule(schedule=form.instance)
        except DistributionError as error:
            self.message_user(request, error.message, messages.ERROR)


@admin.register(FollowUpCase)
class FollowUpCaseAdmin(admin.ModelAdmin):
    list_display = ("pk", "unit", "reason", "status", "owner", "due_at", "closed_at", "outcome")
    list_filter = ("status", "outcome")
    list_select_related = ("unit", "owner")
    search_fields = ("customer_id", "contact")
    readonly_fields = [field.name for field in FollowUpCase._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FollowUpCase]:
        return scoped(super().get_queryset(request), request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # worked on the case page (one write path)
