"""Operations on a phone find a failed background task from "Needs attention" and run it again."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.models import OutboxItem
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_failed_background_task_is_found_and_run_again(page, live_server, login, shot):
    now = timezone.now()
    task = OutboxItem.objects.create(
        task="fleet.tasks.dispatch_waiting_rides",
        queue="dispatch",
        status="failed",
        attempts=7,
        last_error="Gave up after 7 attempts. Attempt 7: OperationalError('database is locked')",
        next_attempt_at=now,
        created_at=now,
    )
    login(page, AdminFactory(name="Olivia Ops"))
    page.goto(f"{live_server.url}/ops/")
    page.get_by_role("link", name="Background tasks that failed").click()
    expect(page.get_by_text("database is locked")).to_be_visible()
    shot(page, "background-tasks")
    page.get_by_role("button", name=f"Run again task #{task.pk}").click()
    expect(page.get_by_text(f"Task #{task.pk} will run again in a moment.")).to_be_visible()
    expect(page.get_by_text("Nothing is stuck")).to_be_visible()
