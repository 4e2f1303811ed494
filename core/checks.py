from django.conf import settings
from django.core.checks import Error


def shared_cache_configured(app_configs, **kwargs):
    """Deploy check: rate limits and lockouts live in the cache; per-process memory is no limit
    once several processes serve the site."""
    if not settings.REDIS_URL:
        return [
            Error(
                "REDIS_URL is not set: rate limits and login back-offs are kept per process.",
                hint="Set REDIS_URL (it is also the task broker).",
                id="core.E001",
            )
        ]
    return []


# Room a task keeps beside its slowest provider call: its database writes, a lookup that did answer.
TASK_MARGIN_SECONDS = 10


def timeout_budget_errors(*, provider: str, worst: float, settings_names: str, check_id: str) -> list[Error]:
    """Errors for a provider call whose worst case (`worst` seconds, retries included) does
    not end inside a web request's budget or a task's time limit: past those the web server
    or the task cluster kills the process and nobody records what happened."""
    budgets = {
        "WEB_REQUEST_BUDGET_SECONDS": settings.WEB_REQUEST_BUDGET_SECONDS,
        f"the task time limit (Q_TASK_TIMEOUT_SECONDS) less {TASK_MARGIN_SECONDS} s": settings.Q_CLUSTER[
            "timeout"
        ]
        - TASK_MARGIN_SECONDS,
    }
    return [
        Error(
            f"A {provider} call that hangs can take {worst:g} s, more than {name} ({budget:g} s).",
            hint=f"Lower {settings_names}.",
            id=check_id,
        )
        for name, budget in budgets.items()
        if worst > budget
    ]
