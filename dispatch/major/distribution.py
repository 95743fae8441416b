"""Spreading a major incident's patients over the hospitals (伤员分流): a plan the dispatcher
accepts or changes, never applied by itself.

Pure: patients, hospitals with their road time from the scene and what they can still take, in;
one destination per patient (or none, with the reason) out. The rules, in the order they apply:

1. Patients go in START order, red, then yellow, then green (black ones are not carried), and in
   order of registration within a tag.
2. A hospital diverting everything takes nobody; one diverting trauma takes no red or yellow
   (every patient of a crash, a fire or a collapse is a trauma patient first).
3. Each hospital takes no more than it can: reds up to its free resuscitation beds, yellows and
   greens together up to its free emergency beds, less what this and other major incidents have
   already sent it that has not arrived. A hospital that reports no beds gets the defaults below,
   so an empty bed table does not send every patient to one place.
4. Among the hospitals left, a patient goes to the one with the smallest cost: road time from the
   scene, plus NOT_CAPABLE_PENALTY_S when the patient needs a capability the hospital lacks (a
   trauma centre for reds; the patient's own need, burns or paediatrics, for anyone), plus, for a
   green, GREEN_NEAR_PENALTY_S at a hospital that takes reds from this plan: the walking wounded
   go a little farther so the nearest trauma centre keeps its hands free (the practice of
   spreading minor casualties to outlying hospitals).
5. A patient no hospital can take is left without a destination, with the reason: the dispatcher
   decides (a hospital over capacity, a farther city).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

# A hospital that reports no free beds of a kind is planned with these.
DEFAULT_RED_CAPACITY = 2
DEFAULT_ER_CAPACITY = 6
NOT_CAPABLE_PENALTY_S = 900.0
GREEN_NEAR_PENALTY_S = 600.0
TRAUMA = "trauma"
CARRIED = ("red", "yellow", "green")
# Why a patient has no destination.
NOT_CARRIED = "not_carried"  # black: dead or expectant
NO_CAPACITY = "no_capacity"  # every hospital that could take the tag is full, diverting or cut off


@dataclass(frozen=True)
class Patient:
    id: int
    tag: str
    needs: str = ""  # a hospital capability this patient needs beyond trauma care


@dataclass
class Destination:
    id: int
    eta_s: float  # road time from the scene; math.inf when no road reaches it
    capabilities: frozenset[str] = frozenset()
    diverting_all: bool = False
    diverting_trauma: bool = False
    red_capacity: int = DEFAULT_RED_CAPACITY
    er_capacity: int = DEFAULT_ER_CAPACITY

    def takes(self, tag: str) -> bool:
        if self.diverting_all or not math.isfinite(self.eta_s):
            return False
        if tag in ("red", "yellow") and self.diverting_trauma:
            return False
        return (self.red_capacity if tag == "red" else self.er_capacity) > 0

    def take(self, tag: str) -> None:
        if tag == "red":
            self.red_capacity -= 1
        else:
            self.er_capacity -= 1


@dataclass(frozen=True)
class Allocation:
    patient: int
    tag: str
    hospital: int | None
    eta_s: float | None
    reason: str = ""  # NOT_CARRIED or NO_CAPACITY when hospital is None


@dataclass
class Plan:
    allocations: list[Allocation] = field(default_factory=list)

    def by_hospital(self) -> dict[int, dict[str, int]]:
        """Patients per hospital and tag."""
        counts: dict[int, dict[str, int]] = {}
        for a in self.allocations:
            if a.hospital is not None:
                tags = counts.setdefault(a.hospital, dict.fromkeys(CARRIED, 0))
                tags[a.tag] += 1
        return counts

    def unplaced(self) -> list[Allocation]:
        return [a for a in self.allocations if a.hospital is None and a.reason == NO_CAPACITY]


def tag_rank(tag: str) -> int:
    return CARRIED.index(tag) if tag in CARRIED else len(CARRIED)


def cost(patient: Patient, d: Destination, reds_here: int) -> float:
    needs = {TRAUMA} if patient.tag == "red" else set()
    if patient.needs:
        needs.add(patient.needs)
    penalty = NOT_CAPABLE_PENALTY_S if not needs <= d.capabilities else 0.0
    if patient.tag == "green" and reds_here:
        penalty += GREEN_NEAR_PENALTY_S
    return d.eta_s + penalty


def plan_distribution(patients: Iterable[Patient], destinations: Iterable[Destination]) -> Plan:
    """One destination for every patient that can be carried (the rules in the module's text).
    The destinations' capacities are used up as the plan fills them (pass copies to keep them)."""
    hospitals = list(destinations)
    reds: dict[int, int] = {}
    plan = Plan()
    for patient in sorted(patients, key=lambda p: (tag_rank(p.tag), p.id)):
        if patient.tag not in CARRIED:
            plan.allocations.append(Allocation(patient.id, patient.tag, None, None, NOT_CARRIED))
            continue
        open_ = [d for d in hospitals if d.takes(patient.tag)]
        if not open_:
            plan.allocations.append(Allocation(patient.id, patient.tag, None, None, NO_CAPACITY))
            continue
        best = min(open_, key=lambda d: (cost(patient, d, reds.get(d.id, 0)), d.id))
        best.take(patient.tag)
        if patient.tag == "red":
            reds[best.id] = reds.get(best.id, 0) + 1
        plan.allocations.append(Allocation(patient.id, patient.tag, best.id, best.eta_s))
    return plan
