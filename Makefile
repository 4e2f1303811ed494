# Whiskers & Wheels — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
UV ?= uv
PYTEST_ARGS ?=

.PHONY: run test install lint fmt migrate seed shell bench kill-test

install:  ## install Python packages exactly as locked (uv itself if missing)
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet uv
	$(UV) sync --frozen

run: install  ## start everything on embedded defaults: web, worker, demo data
	./scripts/run-dev

test: install  ## run every test, browser journeys included
	$(UV) run pytest $(PYTEST_ARGS)

lint:
	$(UV) run ruff check .

fmt:
	$(UV) run ruff check --fix . && $(UV) run ruff format .

migrate:
	DJANGO_DEBUG=1 $(UV) run python manage.py migrate

seed:
	DJANGO_DEBUG=1 $(UV) run python manage.py seed_demo

shell:
	DJANGO_DEBUG=1 $(UV) run python manage.py shell

bench-notifications:  ## drain 1,000 queued notifications with a 2-worker qcluster on SQLite (docs/benchmarks.md)
	$(UV) run python scripts/bench_notifications.py --count 1000 --workers 2

kill-test:  ## kill -9 a messages cluster mid-drain on PostgreSQL + Redis: nothing lost or duplicated (docs/reliability.md)
	$(UV) run python scripts/kill_test.py --messages 1000 --rides 300 --kill-after 0.3
