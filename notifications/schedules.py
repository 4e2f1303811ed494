"""The Django-Q schedule that drives reminders and retries (registered in
NotificationsConfig.ready, see core.schedules)."""

from core.schedules import Every

SCHEDULES = [
    Every("notifications: reminders and retries", "notifications.tasks.run_due", minutes=1, queue="messages"),
]
