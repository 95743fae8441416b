"""A unit nobody is on shift on is not offered: it is listed after every unit that can go, with
"no crew on shift" and `dispatchable: false` (REQUIRE_CREW_ON_SHIFT)."""

from typing import Any

import pytest

from dispatch.crew.actions import end_shift
from dispatch.models import User
from dispatch.recommend.reads import UnitOption, recommend_units
from dispatch.units.actions import take_out_of_service
from fleet.roads.store import save_network
from tests.support.road_grids import SCENE, river_city
from tests.support.roster import on_shift


@pytest.fixture
def city(fresh_router: None, world: Any) -> Any:
    save_network(river_city(), "river city", "tests/recommend/test_crew_needed.py")
    return world


def crew_of(call_sign: str) -> User:
    """The world's crew member on shift on that unit (tests/conftest.py)."""
    return User.objects.get(username=f"crew-{call_sign.lower()}")


def english(option: UnitOption) -> str:
    return " | ".join(r.en for r in option.reasons)


@pytest.mark.django_db(transaction=True)
def test_a_unit_whose_crew_ended_the_shift_is_listed_last_and_not_dispatchable(city) -> None:
    end_shift(crew_of("T-ALS-1"))  # the nearest ALS unit, by far
    result = recommend_units(SCENE, "als")
    assert [u.call_sign for u in result.units] == ["T-ALS-2", "T-NEG-1", "T-BLS-1", "T-ALS-1"]
    unstaffed = result.units[-1]
    assert not unstaffed.dispatchable and not unstaffed.crew_on_shift and not unstaffed.confirm_by_radio
    assert unstaffed.eta_s < result.units[0].eta_s  # nearest, and still not offered
    assert english(unstaffed).startswith("no crew on shift: cannot be sent")
    assert unstaffed.reasons[0].zh == "无人当班，不能派车"
    assert all(u.dispatchable and u.crew_on_shift for u in result.units[:3])
    # a crew starting a shift puts it back in front
    on_shift(city.carol, city.als1)
    assert recommend_units(SCENE, "als").units[0].call_sign == "T-ALS-1"


@pytest.mark.django_db(transaction=True)
def test_no_crew_anywhere_says_no_unit_can_be_sent(city) -> None:
    for call_sign in ("T-ALS-1", "T-ALS-2", "T-BLS-1"):
        end_shift(crew_of(call_sign))
    take_out_of_service(city.neg1, "负压舱消毒", actor=city.bob)
    result = recommend_units(SCENE, "als")
    assert [u.call_sign for u in result.units] == ["T-ALS-1", "T-ALS-2", "T-BLS-1", "T-NEG-1"]
    assert not any(u.dispatchable for u in result.units)
    assert result.shortfall.en == "no unit can be sent: 3 with no crew on shift, 1 out of service"
    assert result.shortfall.zh == "没有可派车辆：3 辆无人当班，1 辆停用"


@pytest.mark.django_db(transaction=True)
def test_with_the_rule_off_an_unstaffed_unit_is_offered(city, settings) -> None:
    settings.REQUIRE_CREW_ON_SHIFT = False
    end_shift(crew_of("T-ALS-1"))
    first = recommend_units(SCENE, "als").units[0]
    assert first.call_sign == "T-ALS-1" and first.dispatchable and not first.crew_on_shift
    assert "no crew" not in english(first)


@pytest.mark.django_db(transaction=True)
def test_units_that_cannot_go_are_listed_only_when_they_would_rank_among_those_shown(city) -> None:
    end_shift(crew_of("T-ALS-1"))  # nearest: would be first
    end_shift(crew_of("T-NEG-1"))  # on the far bank: would be last
    result = recommend_units(SCENE, None, limit=2)
    assert [u.call_sign for u in result.units] == ["T-BLS-1", "T-ALS-2", "T-ALS-1"]
    assert [u.dispatchable for u in result.units] == [True, True, False]
    assert [u.rank for u in result.units] == [1, 2, 3]
    # with room for every unit that can go, every one that cannot follows
    assert [u.call_sign for u in recommend_units(SCENE, None, limit=5).units] == [
        "T-BLS-1",
        "T-ALS-2",
        "T-ALS-1",
        "T-NEG-1",
    ]
