"""A major-incident rehearsal (演练): a bus crash with many casualties played through the public
API, as the control room and the crews would, so a centre can train and the demo can show it.

The dispatcher opens the incident at a place of the city with the casualties reported (the rule
declares it a major incident, or the rehearsal declares it by hand when the rule is slower), sends
the best free units at once with the first in command, registers the casualties as the crews
radio their START tags, asks for the distribution plan and accepts it. With the simulator running
(`make demo`), the sent crews then work their jobs on their own; the supervisor's casualty board
and each ER's allocation fill as it goes.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from dataclasses import dataclass, field

from dispatch.demo.simulator import Session, SimPlace

# START's usual mix in a road crash (about a fifth red, a quarter yellow, the rest walking
# wounded, a few dead).
TAG_SHARES = (("red", 0.20), ("yellow", 0.25), ("green", 0.50), ("black", 0.05))
RULE_WAIT_S = 5.0  # how long the rehearsal waits for the rule before declaring by hand


class RehearsalError(RuntimeError):
    pass


@dataclass
class Rehearsal:
    incident: int = 0
    major: int = 0
    declared_by_rule: bool = False
    units: list[str] = field(default_factory=list)
    casualties: int = 0
    tags: dict[str, int] = field(default_factory=dict)
    hospitals: dict[str, int] = field(default_factory=dict)
    unplaced: int = 0

    def line(self) -> str:
        spread = ", ".join(f"{name} {n}" for name, n in sorted(self.hospitals.items()))
        return (
            f"major incident {self.major} on incident {self.incident} "
            f"({'by rule' if self.declared_by_rule else 'by hand'}): {len(self.units)} units, "
            f"{self.casualties} casualties {self.tags}, to {spread or 'nobody yet'}"
            + (f", {self.unplaced} without a hospital" if self.unplaced else "")
        )


def draw_tags(rng: random.Random, patients: int) -> list[str]:
    """The mix's counts (halves rounded up; the walking wounded make up the rest), in an order
    the crews might find them."""
    # The three shares make half; rounding adds at most 1.5, so they never exceed the patients.
    counts = {tag: int(share * patients + 0.5) for tag, share in TAG_SHARES if tag != "green"}
    counts["green"] = patients - sum(counts.values())
    tags = [tag for tag, n in counts.items() for _ in range(n)]
    rng.shuffle(tags)
    return tags


def checked(response, what: str) -> dict:
    if response.status_code not in (200, 201):
        raise RehearsalError(f"{what}: {response.status_code} {response.text[:300]}")
    return response.json()


def rehearse(
    dispatcher: Session, place: SimPlace, *, patients: int = 30, units: int = 8, seed: int = 120
) -> Rehearsal:
    rng = random.Random(seed)
    done = Rehearsal()
    incident = checked(
        dispatcher.post(
            "/api/incidents",
            {
                "caller_number": f"+86139{rng.randrange(10**8):08d}",
                "lon": place.lon,
                "lat": place.lat,
                "location_source": "gazetteer",
                "address": place.name,
                "priority": 1,
                "chief_complaint": "大巴侧翻 群体伤（演练）",
            },
            key=str(uuid.uuid4()),
        ),
        "open the incident",
    )
    done.incident = incident["id"]
    checked(
        dispatcher.post(f"/api/incidents/{done.incident}/details", {"patient_count": min(patients, 150)}),
        "report the casualties",
    )
    done.major, done.declared_by_rule = declared(dispatcher, done.incident, patients)
    done.units = send_units(dispatcher, done.incident, units)
    tags = draw_tags(rng, patients)
    for n, tag in enumerate(tags, 1):
        checked(
            dispatcher.post(
                f"/api/major/{done.major}/casualties",
                {"tag": tag, "client_id": f"rehearsal-{done.major}-{n}", "age_estimate": rng.randint(4, 85)},
            ),
            "register a casualty",
        )
    done.casualties = len(tags)
    done.tags = {tag: tags.count(tag) for tag, _ in TAG_SHARES}
    plan = checked(dispatcher.get(f"/api/major/{done.major}/plan"), "plan the distribution")
    chosen = [
        {"casualty": a["casualty"], "hospital": a["hospital"]} for a in plan["allocations"] if a["hospital"]
    ]
    if chosen:
        board = checked(
            dispatcher.post(f"/api/major/{done.major}/allocations", {"allocations": chosen}),
            "accept the plan",
        )
        done.hospitals = {h["name"]: sum(h["tags"].values()) for h in board["hospitals"]}
    done.unplaced = plan["unplaced"]
    return done


def declared(dispatcher: Session, incident_id: int, patients: int) -> tuple[int, bool]:
    """The major incident: the rule's, if it comes within RULE_WAIT_S, else declared by hand."""
    deadline = time.monotonic() + RULE_WAIT_S
    while time.monotonic() < deadline:
        for major in checked(dispatcher.get("/api/major"), "list major incidents"):
            if major["incident"] == incident_id:
                return major["id"], True
        time.sleep(0.5)
    level = 2 if patients >= 30 else 3 if patients >= 10 else 4
    made = dispatcher.post(
        f"/api/incidents/{incident_id}/major", {"level": level, "casualties_reported": patients}
    )
    if made.status_code == 409:  # the rule won the race after all
        return declared(dispatcher, incident_id, patients)
    return checked(made, "declare the major incident")["id"], False


def send_units(dispatcher: Session, incident_id: int, wanted: int) -> list[str]:
    """The best free units by road, all at once, the first in command."""
    answer = checked(
        dispatcher.get(f"/api/incidents/{incident_id}/recommendation", limit=min(max(wanted, 1), 50)),
        "ask for the recommendation",
    )
    free = [
        u["id"]
        for u in answer.get("units", [])
        if u.get("dispatchable") and u.get("eta_s") is not None and math.isfinite(u["eta_s"])
    ][:wanted]
    if not free:
        return []
    sent = checked(
        dispatcher.post(
            f"/api/incidents/{incident_id}/dispatch-many", {"units": free, "command_unit": free[0]}
        ),
        "send the units",
    )
    return sent["units"]
