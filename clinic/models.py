"""The outbox: where the ``outbox`` SMS backend keeps the texts it "sends"."""

from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    """A text the outbox backend stored instead of sending (the default for `make run`)."""

    to = models.CharField(max_length=20)
    body = models.TextField()
    provider_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"To {self.to} at {self.created_at:%Y-%m-%d %H:%M}"
