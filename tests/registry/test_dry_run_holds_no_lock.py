"""A dry run records no event, so it never takes the event log's counter row: every other action
in the centre goes on while an administrator checks a long file. (A real import holds it until it
commits, as every action does: the test shows the difference.)"""

import threading

import pytest
from django.contrib.gis.geos import Point
from django.db import OperationalError, connection

from dispatch.registry.actions import save_station
from dispatch.registry.importer import import_files
from tests.registry.centre_files import example_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_english")]


def counter_free() -> bool:
    """Whether another connection can lock the counter row now (as the next action would)."""
    answer: list[bool] = []

    def try_lock() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT last_seq FROM dispatch_eventcounter WHERE id = 1 FOR UPDATE NOWAIT")
            answer.append(True)
        except OperationalError:
            answer.append(False)
        finally:
            connection.close()

    thread = threading.Thread(target=try_lock)
    thread.start()
    thread.join()
    return answer[0]


def counter_during_import(dry_run: bool) -> list[bool]:
    seen: list[bool] = []

    def progress(name: str, done: int, total: int) -> None:
        if name == "users.csv" and done == 1:
            seen.append(counter_free())

    assert import_files(example_files(), dry_run=dry_run, progress=progress).ok
    return seen


def test_a_dry_run_leaves_the_event_counter_free() -> None:
    save_station("X0", name="先有站", location=Point(119.6, 24.9, srid=4326))  # the counter row exists
    assert counter_free()
    assert counter_during_import(dry_run=True) == [True]
    assert counter_during_import(dry_run=False) == [False]
