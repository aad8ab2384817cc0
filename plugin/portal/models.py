from django.db import models


class Heartbeat(models.Model):
    """The last moment a long-lived process said it was alive (Celery beat records each tick here)."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
