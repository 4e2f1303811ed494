"""Notifications in the back office (/ops/notifications/): every message, its attempts, retry."""

from django.urls import path

from notifications import ops_views

app_name = "notifications_ops"
urlpatterns = [
    path("", ops_views.notification_list, name="list"),
    path("<int:pk>/", ops_views.notification_detail, name="detail"),
    path("<int:pk>/email.html", ops_views.notification_email_html, name="email_html"),
    path("<int:pk>/retry/", ops_views.notification_retry, name="retry"),
]
