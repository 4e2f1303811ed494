"""Reads for notifications: the back office list and a ride's messages."""

from collections.abc import Mapping

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from notifications.filters import NotificationFilterSet
from notifications.models import Notification, NotificationAttempt, Status


def ops_notifications(*, filters: Mapping | None = None) -> QuerySet[Notification]:
    """Every message, newest first, narrowed by NotificationFilterSet."""
    rows = Notification.objects.with_list_relations().order_by("-created_at", "-id")
    return NotificationFilterSet(filters, queryset=rows).qs


def ride_notifications(ride, limit: int = 20) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(ride=ride).select_related("user").order_by("-created_at", "-id")[:limit]
    )


def notification_with_attempts(pk: int) -> Notification:
    return get_object_or_404(
        Notification.objects.with_list_relations().prefetch_related(
            Prefetch("attempt_log", NotificationAttempt.objects.select_related("by"))
        ),
        pk=pk,
    )


def messages_needing_attention(now=None) -> dict[str, int]:
    """One query: messages failed for good, and queued past the sweep's deadline."""
    now = now or timezone.now()
    stuck_before = now - settings.NOTIFY_REQUEUE_AFTER
    return Notification.objects.aggregate(
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        stuck=Count("pk", filter=Q(status=Status.QUEUED, next_attempt_at__lt=stuck_before)),
    )
