"""The distribution plan on hand-made hospitals: START order, capacity never exceeded, diversion
respected, greens spread away from the hospital taking reds, black tags not carried, and the
patients nobody can take left for the dispatcher with the reason."""

import math
import random
from dataclasses import replace

from dispatch.major.distribution import (
    GREEN_NEAR_PENALTY_S,
    NO_CAPACITY,
    NOT_CARRIED,
    Destination,
    Patient,
    plan_distribution,
)


def hospitals() -> list[Destination]:
    # Near: a trauma centre 5 min away with 2 resuscitation beds; mid: a general hospital 8 min
    # away; far: a general hospital 20 min away.
    return [
        Destination(1, 300.0, frozenset({"trauma"}), red_capacity=2, er_capacity=3),
        Destination(2, 480.0, frozenset(), red_capacity=1, er_capacity=4),
        Destination(3, 1200.0, frozenset(), red_capacity=1, er_capacity=10),
    ]


def where(plan) -> dict[int, int | None]:
    return {a.patient: a.hospital for a in plan.allocations}


def test_reds_first_to_the_trauma_centre_until_its_beds_run_out():
    patients = [Patient(10, "green"), Patient(11, "red"), Patient(12, "red"), Patient(13, "red")]
    plan = plan_distribution(patients, hospitals())
    # Order of the plan: reds before greens, whatever the order they were registered in.
    assert [a.patient for a in plan.allocations] == [11, 12, 13, 10]
    got = where(plan)
    assert got[11] == 1 and got[12] == 1  # the trauma centre's 2 resus beds
    # The third red: the mid hospital (480 s + 900 s without trauma care) beats the far one
    # (1200 + 900); the trauma centre is full.
    assert got[13] == 2
    # The green: near 300 + 600 (it takes reds) = 900, mid 480 + 600 (it took a red too) = 1080,
    # far 1200: the near one still.
    assert got[10] == 1


def test_greens_go_farther_when_the_nearest_takes_the_reds():
    near, mid, far = hospitals()
    mid = replace(mid, eta_s=near.eta_s + GREEN_NEAR_PENALTY_S - 60)  # closer than near + penalty
    plan = plan_distribution([Patient(1, "red"), Patient(2, "green")], [near, mid, far])
    assert where(plan) == {1: 1, 2: 2}
    # Without the red, the green goes to the nearest.
    plan = plan_distribution([Patient(2, "green")], hospitals())
    assert where(plan) == {2: 1}


def test_capacity_is_never_exceeded_and_the_rest_wait_with_a_reason():
    patients = [Patient(i, "red") for i in range(6)] + [Patient(100 + i, "yellow") for i in range(20)]
    plan = plan_distribution(patients, hospitals())
    counts = plan.by_hospital()
    assert counts[1]["red"] == 2 and counts[2]["red"] == 1 and counts[3]["red"] == 1
    assert counts[1]["yellow"] == 3 and counts[2]["yellow"] == 4 and counts[3]["yellow"] == 10
    unplaced = plan.unplaced()
    assert len(unplaced) == 2 + 3  # 6 reds for 4 resus beds, 20 yellows for 17 ER beds
    assert {a.reason for a in unplaced} == {NO_CAPACITY}


def test_black_tags_are_not_carried_and_use_no_bed():
    plan = plan_distribution([Patient(1, "black"), Patient(2, "red")], hospitals())
    first = next(a for a in plan.allocations if a.patient == 1)
    assert first.hospital is None and first.reason == NOT_CARRIED
    assert plan.unplaced() == []
    assert where(plan)[2] == 1


def test_diversion_and_unreachable_hospitals_are_skipped():
    near, mid, far = hospitals()
    near = replace(near, diverting_trauma=True)
    mid = replace(mid, eta_s=math.inf)
    plan = plan_distribution([Patient(1, "red"), Patient(2, "yellow"), Patient(3, "green")], [near, mid, far])
    # Diverting trauma: no red or yellow there, but the walking wounded still go (nearest).
    assert where(plan) == {1: 3, 2: 3, 3: 1}
    near = replace(near, diverting_trauma=False, diverting_all=True)
    plan = plan_distribution([Patient(3, "green")], [near, mid, far])
    assert where(plan) == {3: 3}


def test_a_patients_own_need_weighs_like_trauma_care():
    burns = Destination(4, 900.0, frozenset({"burns"}), red_capacity=2, er_capacity=4)
    plan = plan_distribution([Patient(1, "yellow", needs="burns")], [*hospitals(), burns])
    # 300 + 900 (no burns unit) at the near one against 900 at the burns centre.
    assert where(plan) == {1: 4}


def test_random_incidents_never_overfill_a_hospital():
    rng = random.Random(22)
    for _ in range(200):
        dests = [
            Destination(
                h,
                rng.choice([math.inf, rng.uniform(60, 3600)])
                if rng.random() < 0.1
                else rng.uniform(60, 3600),
                frozenset(rng.sample(["trauma", "burns", "paediatric"], rng.randint(0, 2))),
                diverting_all=rng.random() < 0.1,
                diverting_trauma=rng.random() < 0.1,
                red_capacity=rng.randint(0, 3),
                er_capacity=rng.randint(0, 8),
            )
            for h in range(rng.randint(1, 8))
        ]
        capacity = {d.id: (d.red_capacity, d.er_capacity) for d in dests}
        patients = [
            Patient(i, rng.choice(["red", "yellow", "green", "black"])) for i in range(rng.randint(0, 60))
        ]
        plan = plan_distribution(patients, [replace(d) for d in dests])
        for hospital, tags in plan.by_hospital().items():
            red, er = capacity[hospital]
            assert tags["red"] <= red and tags["yellow"] + tags["green"] <= er
        # Nobody is left waiting while a hospital that could take them has room.
        for a in plan.unplaced():
            room = [
                d
                for d in dests
                if not d.diverting_all
                and math.isfinite(d.eta_s)
                and not (a.tag in ("red", "yellow") and d.diverting_trauma)
            ]
            used = plan.by_hospital()
            for d in room:
                tags = used.get(d.id, {"red": 0, "yellow": 0, "green": 0})
                if a.tag == "red":
                    assert tags["red"] >= capacity[d.id][0]
                else:
                    assert tags["yellow"] + tags["green"] >= capacity[d.id][1]
