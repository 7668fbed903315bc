"""Admin of open-comment themes: runs (start one for a survey and period range), themes
(list, rename, merge). Themes carry words from every unit's comments, so only users who read
the whole organisation see them here; unit managers read their own units' on the pages."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from common.roles import acting_user, sees_whole_organisation

from .exceptions import InvalidThemeRun, ThemesNotMergeable
from .models import Theme, ThemeRun
from .services import check_theme_run, merge_themes, rename_theme, start_theme_run


class WholeOrganisationOnly:
    """Admin pages for users who read every unit (leaders, analysts, superusers)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return sees_whole_organisation(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_whole_organisation(request.user)


class StartThemeRunForm(forms.ModelForm):
    """Survey, period range and mode; the service checks them (field errors)."""

    class Meta:
        model = ThemeRun
        fields = ["survey", "first_period", "last_period", "mode"]
        help_texts = {"first_period": "e.g. 2026-01 or 2026-Q1", "last_period": "inclusive"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            try:
                check_theme_run(
                    survey=data["survey"],
                    first_period=data["first_period"],
                    last_period=data["last_period"],
                    mode=data["mode"],
                )
            except InvalidThemeRun as error:
                for field, lines in error.field_errors().items():
                    self.add_error(field if field in self.fields else None, lines)
        return data


class ThemeInline(admin.TabularInline):
    model = Theme
    fields = ["number", "name", "label", "size", "merged_into"]
    readonly_fields = ["number", "name", "label", "size", "merged_into"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ThemeRun)
class ThemeRunAdmin(WholeOrganisationOnly, admin.ModelAdmin):
    list_display = ["__str__", "status", "mode", "comment_count", "theme_count", "finished_at"]
    list_filter = ["status", "mode"]
    list_select_related = ["survey"]
    readonly_fields = ["status", "comment_count", "k_scores", "warnings", "error", "finished_at"]
    form = StartThemeRunForm

    def has_add_permission(self, request: HttpRequest) -> bool:
        return sees_whole_organisation(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # written by the service and the worker only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list:
        return [ThemeInline] if obj is not None else []

    @admin.display(description="themes")
    def theme_count(self, run: ThemeRun) -> int:
        return run.themes.filter(merged_into__isnull=True).count()

    def save_model(self, request: HttpRequest, obj: ThemeRun, form: Any, change: bool) -> None:
        run = start_theme_run(
            survey=obj.survey,
            first_period=obj.first_period,
            last_period=obj.last_period,
            mode=obj.mode,
            requested_by=acting_user(request.user),
        )
        obj.pk = run.pk


@admin.register(Theme)
class ThemeAdmin(WholeOrganisationOnly, admin.ModelAdmin):
    list_display = ["display_name", "label", "size", "run", "merged_into"]
    list_filter = ["run__survey"]
    list_select_related = ["run__survey", "merged_into"]
    search_fields = ["name", "label"]
    fields = ["name", "label", "top_terms", "size", "run", "merged_into"]
    readonly_fields = ["label", "top_terms", "size", "run", "merged_into"]
    actions = ["merge_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Theme]:
        return super().get_queryset(request).filter(run__status=ThemeRun.Status.DONE)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_whole_organisation(request.user)

    def save_model(self, request: HttpRequest, obj: Theme, form: Any, change: bool) -> None:
        rename_theme(theme=obj, name=obj.name, renamed_by=acting_user(request.user))

    @admin.action(description="Merge selected themes (into the largest)")
    def merge_selected(self, request: HttpRequest, queryset: QuerySet[Theme]) -> None:
        try:
            survivor = merge_themes(themes=list(queryset), merged_by=acting_user(request.user))
        except ThemesNotMergeable as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, f"Merged into “{survivor.display_name}”.", messages.SUCCESS)
