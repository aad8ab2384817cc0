from django.contrib import admin

from .models import UOM, Division, Location, Site


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "division"]
    list_filter = ["division"]
    search_fields = ["code", "name"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "site"]
    list_filter = ["site__division", "site"]
    search_fields = ["code", "name"]


@admin.register(UOM)
class UOMAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "each_count", "division"]
    list_filter = ["division"]
