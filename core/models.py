from django.db import models


class OutboxItem(models.Model):
    """One consequence of a committed change, waiting to be done: a task to run, recorded in
    the same database transaction as the change (see core.outbox)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    task = models.CharField(max_length=200, help_text="Dotted path of the function to run.")
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When it may run (again): a failed run's back-off, or a running one's lease.
    next_attempt_at = models.DateTimeField()
    # When it was last handed to the broker; the relay hands it again when that is long past.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["status", "done_at"], name="outbox_done_idx"),
        ]

    def __str__(self):
        return f"{self.task}{tuple(self.args)} ({self.status})"
