"""run_workers starts every loop it names: each is the LoopCommand of an installed app."""

import pytest

from dispatch.management.commands.run_workers import LOOPS, loop_command


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_each_loop_of_run_workers_loads(name):
    assert callable(loop_command(name).loop)
