from django.db import models


class Heartbeat(models.Model):
    """The last moment a long-lived process said it was alive (Celery beat records each tick here)."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


class NoticeState(models.Model):
    """Throttle of notification mails: when a store was last mailed about one cause, and how many notices
    of that cause were held back since (the next mail counts them). Changed only by
    plugin.portal.notifications, under a row lock."""

    store = models.ForeignKey("configuration.StoreConnection", on_delete=models.CASCADE, related_name="+")
    cause = models.CharField(max_length=60)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    held_back = models.PositiveIntegerField(default=0)
    held_back_since = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # The last notice held back (or not sent): what a flush mails when nothing more comes.
    last_notice = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "cause"], name="notice_state_store_cause")]

    def __str__(self):
        return f"{self.store_id}/{self.cause}: last sent {self.last_sent_at}, {self.held_back} held back"
