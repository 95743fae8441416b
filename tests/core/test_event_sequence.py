"""The event log's numbers have no gap and no duplicate, even with concurrent writers."""

import threading

import pytest
from django.db import connection

from dispatch.incidents.actions import create_incident
from dispatch.models import Event


def create_incidents(count: int, errors: list) -> None:
    try:
        for i in range(count):
            create_incident(actor=None, caller_number=f"+8613800000{i:03d}", chief_complaint="chest pain")
    except Exception as exc:  # surfaced by the test below
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_gap_free_unique_numbers():
    errors: list = []
    threads = [threading.Thread(target=create_incidents, args=(25, errors)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert len(seqs) == 150
    assert seqs == list(range(seqs[0], seqs[0] + 150))


@pytest.mark.django_db(transaction=True)
def test_rolled_back_action_leaves_no_number_behind():
    from django.db import transaction

    create_incident(actor=None, chief_complaint="fall")
    with pytest.raises(RuntimeError), transaction.atomic():
        create_incident(actor=None, chief_complaint="will roll back")
        raise RuntimeError("abort")
    create_incident(actor=None, chief_complaint="after")
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + 2))


@pytest.mark.django_db(transaction=True)
def test_record_event_refuses_to_run_outside_a_transaction():
    from dispatch.core.events import record_event

    with pytest.raises(RuntimeError, match="inside the action's transaction"):
        record_event("test.outside")
