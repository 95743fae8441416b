"""Every unit row the API returns and every position batch says whether the position is stale
(older than STALE_POSITION_SECONDS): a dispatcher must never take an old dot for a live one."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from dispatch.positions.actions import Fix, record_position
from dispatch.registry.actions import create_unit
from tests.support.live_sockets import positions_within, ready


def test_unit_rows_say_which_positions_are_stale(client, world, settings):
    settings.STALE_POSITION_SECONDS = 120
    create_unit("T-OLD-1", "bls")  # never reported: no position, stale
    quiet = create_unit("T-OLD-2", "bls")
    old = Fix(119.6, 24.9, timezone.now() - timedelta(seconds=300))
    record_position(quiet, old, source="tracker", device="quiet")  # five minutes old
    record_position(world.als1, Fix(119.6, 24.9, timezone.now() + timedelta(seconds=1)), source="tablet")
    client.force_login(world.alice)
    rows = {row["call_sign"]: row for row in client.get("/api/units").json()}
    assert all("position_stale" in row for row in rows.values())
    assert rows["T-OLD-1"]["position_stale"] is True and rows["T-OLD-1"]["lon"] is None
    assert rows["T-OLD-2"]["position_stale"] is True and rows["T-OLD-2"]["lon"] == 119.6
    assert rows["T-ALS-1"]["position_stale"] is False


@pytest.mark.django_db(transaction=True)
def test_a_batch_flags_an_old_fix_as_stale(world, settings):
    settings.STALE_POSITION_SECONDS = 120
    unit = create_unit("T-OLD-3", "bls")  # no station: its first fix moves it, however old
    record = sync_to_async(record_position)

    async def scenario():
        console = await ready(world.alice)
        await record(unit, Fix(119.6, 24.9, timezone.now() - timedelta(seconds=300)), source="tracker")
        await record(world.als1, Fix(119.61, 24.93, timezone.now() + timedelta(seconds=1)), source="tracker")
        rows = {}
        for _, batch in await positions_within(console, 2.5, {unit.pk, world.als1.pk}):
            rows.update(batch)
        assert rows[unit.pk]["position_stale"] is True
        assert rows[world.als1.pk]["position_stale"] is False
        await console.disconnect()

    asyncio.run(scenario())
