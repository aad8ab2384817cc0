"""Embedded IntelliTrack: the master data the plugin places stock into.

Division > Site > Location, and units of measure per division. Codes are the stable, human keys
(configuration files name master data by code, never by database id)."""
from django.db import models


class Division(models.Model):
    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} - {self.name}"


class Site(models.Model):
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="sites")
    code = models.CharField(max_length=30)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["division__code", "code"]
        constraints = [models.UniqueConstraint(fields=["division", "code"], name="site_code_unique_per_division")]

    def __str__(self):
        return f"{self.code} - {self.name}"


class Location(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(max_length=30)
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["site__code", "code"]
        constraints = [models.UniqueConstraint(fields=["site", "code"], name="location_code_unique_per_site")]

    def __str__(self):
        return self.code if not self.name else f"{self.code} - {self.name}"


class UOM(models.Model):
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="uoms")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=60)
    each_count = models.PositiveIntegerField(default=1, help_text="How many single units one of this UOM holds.")

    class Meta:
        ordering = ["division__code", "code"]
        verbose_name = "unit of measure"
        constraints = [models.UniqueConstraint(fields=["division", "code"], name="uom_code_unique_per_division")]

    def __str__(self):
        return f"{self.code} ({self.each_count})"
