"""Admin bases that grant reading by role, the read-only audit log and the branding page."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from .models import AuditEvent, Branding
from .roles import AnyUser, is_analyst, is_leader
from .services.branding import logo_type_of, save_branding


def reads_by_role(user: AnyUser) -> bool:
    """Staff leaders and analysts read the leadership pages by role (group membership)."""
    return bool(user.is_active and getattr(user, "is_staff", False)) and (
        is_leader(user) or is_analyst(user)
    )


class RoleAdmin(admin.ModelAdmin):
    """Roles grant reading, whatever model permissions the database holds; other staff need
    the view permission."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return reads_by_role(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return reads_by_role(request.user) or super().has_view_permission(request, obj)


class ReadOnlyAdmin(RoleAdmin):
    """History written by services only: viewable, never edited from the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "subject"]
    list_filter = ["action"]
    list_select_related = ["actor"]
    search_fields = ["action", "subject", "actor__username"]
    date_hierarchy = "created_at"


class BrandingForm(forms.ModelForm):
    logo_file = forms.FileField(
        label="Logo file",
        required=False,
        help_text="PNG, JPEG, GIF or WebP, at most 512 KB; served by this site.",
    )
    remove_logo = forms.BooleanField(label="Remove the uploaded logo", required=False)
    logo_url = forms.URLField(
        label="Logo address",
        required=False,
        assume_scheme="https",
        help_text="An https address of the logo, used when no file is uploaded.",
    )

    class Meta:
        model = Branding
        fields = ("company_name", "colour", "logo_url", "show_powered_by")
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}

    def clean_logo_file(self) -> bytes | None:
        upload = self.cleaned_data.get("logo_file")
        if not upload:
            return None
        data = upload.read(512 * 1024 + 1)
        try:
            logo_type_of(data)
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None
        return data


@admin.register(Branding)
class BrandingAdmin(admin.ModelAdmin):
    """One row: the list page goes straight to it (or to adding it)."""

    form = BrandingForm
    readonly_fields = ("logo_preview",)
    fields = (
        "company_name",
        "colour",
        "logo_file",
        "remove_logo",
        "logo_url",
        "logo_preview",
        "show_powered_by",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Branding.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        branding = Branding.objects.only("pk").first()
        if branding is None:
            return HttpResponseRedirect(reverse("admin:common_branding_add"))
        return HttpResponseRedirect(reverse("admin:common_branding_change", args=[branding.pk]))

    @admin.display(description="Current logo")
    def logo_preview(self, branding: Branding) -> str:
        if not branding.has_logo:
            return "—"
        return format_html('<img src="{}" alt="Current logo" height="48">', branding.logo_src)

    def save_model(self, request: HttpRequest, obj: Branding, form, change: bool) -> None:
        save_branding(
            branding=obj,
            logo=form.cleaned_data.get("logo_file"),
            remove_logo=form.cleaned_data.get("remove_logo", False),
        )
