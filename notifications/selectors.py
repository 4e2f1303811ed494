"""Reads for notifications: the back office list and a ride's messages."""

from collections.abc import Mapping

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from notifications.filters import NotificationFilterSet
from notifications.models import Notification, NotificationAttempt


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
