"""Admin for the organisation tree."""

from django.contrib import admin
from django.utils.html import format_html

from ..models import OrgUnit
from ..services.units import save_unit


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("indented_name", "code", "level")
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    filter_horizontal = ("managers",)
    fields = ("name", "code", "level", "parent", "managers")
    list_per_page = 200

    def save_model(self, request, obj: OrgUnit, form, change: bool) -> None:
        # Moving a unit re-roots its subtree and recomputes every roll-up (the service).
        save_unit(unit=obj, changed_fields=form.changed_data if change else ())

    @admin.display(description="Name", ordering="path")
    def indented_name(self, unit: OrgUnit) -> str:
        # A class per depth (static/css/admin-cx.css): the CSP allows no inline style.
        depth = max(0, min(unit.depth - 1, 12))
        return format_html('<span class="cx-depth-{}">{}</span>', depth, unit.name)
