"""The back office's messages page (/ops/notifications/): filters, errors, retry. Admins only."""

from csp.decorators import csp_replace
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.filters import filtered_page
from core.htmx import render_partial
from notifications import selectors, services
from notifications.filters import NotificationFilterSet
from notifications.models import Notification
from project.accounts.policies import admin_required


@admin_required
@require_GET
def notification_list(request):
    listing = filtered_page(request, NotificationFilterSet, selectors.ops_notifications)
    return render_partial(request, "notifications/ops/list.html", "notification-table", listing)


@admin_required
@require_GET
@csp_replace({"frame-src": ["'self'"]})  # the email as sent, in a sandboxed frame
def notification_detail(request, pk):
    notification = selectors.notification_with_attempts(pk)
    return render(request, "notifications/ops/detail.html", {"notification": notification})


@admin_required
@require_GET
@xframe_options_sameorigin
def notification_email_html(request, pk):
    """The HTML email as sent, for the sandboxed frame on its detail page. Its inline styles
    are the email's own; nothing else may load or run in it, and only our page may frame it."""
    notification = get_object_or_404(Notification, pk=pk)
    response = HttpResponse(notification.message_html, content_type="text/html; charset=utf-8")
    response._csp_config = {
        "default-src": ["'none'"],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'self'"],
    }
    return response


@admin_required
@require_POST
def notification_retry(request, pk):
    notification = get_object_or_404(Notification.objects.with_list_relations(), pk=pk)
    error = ""
    next_url = request.POST.get("next", "")
    try:
        notification = services.notification_retry(notification=notification, by=request.user)
    except DomainError as exc:
        error = exc.message
    if request.htmx:
        # Swap the row in place; the row shows the new status or the reason it could not retry.
        response = render(
            request,
            "notifications/ops/list.html#notification-row",
            {"notification": notification, "row_error": error, "next_url": next_url},
        )
        response["Vary"] = "HX-Request"
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Message #{notification.pk} is queued again.")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return redirect(next_url)
    return redirect("notifications_ops:detail", pk=notification.pk)
