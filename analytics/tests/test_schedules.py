from __future__ import annotations

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from analytics.schedules import schedules, schedules_ensure


@pytest.mark.django_db
def test_schedules_exist_after_migrate() -> None:
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert {schedule.name for schedule in schedules()} <= names


@pytest.mark.django_db
def test_rerunning_setup_keeps_an_admins_edit() -> None:
    task = PeriodicTask.objects.get(name="System heartbeat")
    task.enabled = False
    task.description = "edited by an admin"
    task.save()
    call_command("setup_schedules")
    assert schedules_ensure() == []
    task.refresh_from_db()
    assert task.enabled is False
    assert task.description == "edited by an admin"
    assert PeriodicTask.objects.filter(name="System heartbeat").count() == 1


@pytest.mark.django_db
def test_a_deleted_schedule_is_recreated() -> None:
    PeriodicTask.objects.filter(name="System heartbeat").delete()
    assert schedules_ensure() == ["System heartbeat"]


def test_history_housekeeping_is_scheduled_and_long_work_goes_to_the_imports_queue() -> None:
    from config.celery import app

    tasks = {item.task for item in schedules()}
    for task in (
        "meters.tasks.readings_partitions_ensure",
        "meters.tasks.readings_archive_due",
        "alerts.tasks.alert_events_prune",
        "meters.tasks.quarantine_prune",
    ):
        assert task in tasks
        assert task in app.tasks
    assert app.amqp.router.route({}, "meters.tasks.readings_archive_due")["queue"].name == "imports"
    assert app.amqp.router.route({}, "meters.tasks.readings_partitions_ensure")["queue"].name == "imports"


def test_the_watch_over_lost_upload_imports_is_scheduled_and_runs_on_the_live_queue() -> None:
    """Not on `imports`: it must run while the import worker is stuck or gone (issue 29)."""
    from config.celery import app

    assert "meters.tasks.uploads_recover" in {item.task for item in schedules()}
    assert "meters.tasks.uploads_recover" in app.tasks
    assert app.amqp.router.route({}, "meters.tasks.uploads_recover")["queue"].name == "live"
