"""Reads for notifications: the back office list and a ride's messages."""

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from notifications.models import Notification, NotificationAttempt


def ops_notifications(
    *, channel: str = "", status: str = "", kind: str = "", ride_id: int | None = None, search: str = ""
) -> QuerySet[Notification]:
    rows = Notification.objects.with_list_relations()
    if channel:
        rows = rows.filter(channel=channel)
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    if ride_id:
        rows = rows.filter(ride_id=ride_id)
    if search := search.strip():
        rows = rows.filter(
            Q(to__icontains=search) | Q(user__name__icontains=search) | Q(user__email__icontains=search)
        )
    return rows.order_by("-created_at", "-id")


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
