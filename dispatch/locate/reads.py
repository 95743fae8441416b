"""Locating the incident: gazetteer search, the nearest named place, and possible duplicates.

Dispatchers type what the caller says in Chinese characters, in full pinyin ("bishuiyuan",
"bi shui"), as pinyin initials ("bsy") or in English, often with a typo. Every condition that
selects rows is one the pg_trgm GIN indexes on Place serve, and a search is one query.

This module imports dispatch.models only inside functions: models.py imports PlaceQuerySet
from here.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import GeometryDistance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db.models import BooleanField, Case, ExpressionWrapper, F, FloatField, Q, Value, When
from django.db.models.expressions import Func
from django.db.models.functions import Greatest, Length
from django.db.models.lookups import Lookup
from django.utils import timezone

from dispatch.locate.gazetteer import search_keys

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler
    from django_stubs_ext import WithAnnotations

    from dispatch.models import Incident, Place

# Chinese characters: CJK unified ideographs, extension A, compatibility ideographs.
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LIKE_SPECIALS = re.compile(r"([\\%_])")

# A substring or a typo is only worth matching from this many characters on: shorter ones
# match a large part of the city, and pg_trgm extracts no trigram from them to use an index.
MIN_SUBSTRING = 3
MIN_FUZZY = 4
MIN_FUZZY_HAN = 2

# What a match is called, and how good it is (tiers, best first).
NAME, PINYIN, INITIALS, FUZZY = "name", "pinyin", "initials", "fuzzy"
EXACT, PREFIX, SUBSTRING, SIMILAR = 0, 1, 2, 3


class Like(Lookup):
    """`column LIKE pattern`, the pattern given whole (Django's own lookups add the %)."""

    lookup_name = "like"
    operator = "LIKE"
    prepare_rhs = False

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} {self.operator} {rhs}", [*lhs_params, *rhs_params]


class ILike(Like):
    """`column ILIKE pattern`: Django's icontains wraps the column in UPPER(), which no index
    serves; the trigram GIN index serves ILIKE directly."""

    lookup_name = "ilike"
    operator = "ILIKE"


def like_escaped(text: str) -> str:
    return LIKE_SPECIALS.sub(r"\\\1", text)


@dataclass(frozen=True)
class SearchText:
    """What the dispatcher typed, normalised: `text` for names, `key` for pinyin and initials."""

    text: str
    key: str
    han: bool

    @classmethod
    def parse(cls, typed: str) -> SearchText:
        """Full-width to half-width, lower case, single spaces; Chinese names have no spaces."""
        text = " ".join(unicodedata.normalize("NFKC", typed).lower().replace("ü", "v").split())
        han = bool(HAN.search(text))
        if han:
            text = text.replace(" ", "")
        return cls(text=text, key=search_keys(text)[0] if text else "", han=han)

    @property
    def empty(self) -> bool:
        """Nothing searchable: blank, or only punctuation (every Chinese text has a key)."""
        return not self.key


@dataclass(frozen=True)
class Rule:
    """One way a place can match: a condition, how good a match it is, and what it is called.

    `selects` is False for a rule another rule of the same column implies (exact by prefix,
    prefix by substring): it only ranks, and saves an index scan among the candidates.
    """

    condition: Q
    tier: int
    match: str
    selects: bool = True


def column_rules(field: str, pattern: str, match: str, *, substring: bool, lookup: type[Like]) -> list[Rule]:
    """Exact, prefix and (if asked) substring matches of an escaped pattern on one column."""

    def like(p: str) -> Q:
        return Q(lookup(F(field), p))

    rules = [
        Rule(like(pattern), EXACT, match, False),
        Rule(like(pattern + "%"), PREFIX, match, not substring),
    ]
    if substring:
        rules.append(Rule(like(f"%{pattern}%"), SUBSTRING, match))
    return rules


def han_rules(s: SearchText) -> list[Rule]:
    """Chinese input: the name, then names that sound the same (a wrong character from the
    pinyin input method: 碧水园 for 碧水苑), then similar names."""
    text = like_escaped(s.text)
    rules = column_rules("name", text, NAME, substring=len(s.text) >= MIN_SUBSTRING, lookup=ILike)
    if len(s.text) == 2:
        # Two characters hold no trigram for the name index to use; their pinyin does.
        two = Q(Like(F("pinyin"), f"%{s.key}%")) & Q(ILike(F("name"), f"%{text}%"))
        rules.append(Rule(two, SUBSTRING, NAME))
    if len(s.text) >= MIN_FUZZY_HAN:
        rules.append(Rule(Q(Like(F("pinyin"), s.key + "%")), SIMILAR, FUZZY))
        rules.append(Rule(Q(name__trigram_similar=s.text), SIMILAR, FUZZY))
    return rules


def latin_rules(s: SearchText) -> list[Rule]:
    """Pinyin, initials, English names, and Latin letters or numbers in Chinese names (万达广场A座).
    A place matching equally well in several ways is said to match the first, in this order."""
    text, key = like_escaped(s.text), s.key
    long = len(key) >= MIN_SUBSTRING
    rules = []
    if len(key) > 1:  # a single letter is an initial: pinyin starting with it adds nothing
        rules += column_rules("pinyin", key, PINYIN, substring=long, lookup=Like)
    rules += column_rules("initials", key, INITIALS, substring=False, lookup=Like)
    rules += column_rules("name_en", text, NAME, substring=long, lookup=ILike)
    rules += column_rules("name", text, NAME, substring=long, lookup=ILike)
    if len(key) >= MIN_FUZZY:
        # Word similarity: how well the typed text matches some stretch of the key, so a typo
        # in the first syllables still finds a long name (bishuiyaun: 碧水苑小区). English
        # names are not searched for typos: most are pinyin too, and it doubles the work.
        rules.append(Rule(Q(pinyin__trigram_word_similar=key), SIMILAR, FUZZY))
    return rules


def similarity(s: SearchText) -> Func:
    """How close a fuzzy match is to what was typed (pg_trgm, 0..1)."""
    if s.han:
        return Greatest(TrigramSimilarity("name", s.text), TrigramWordSimilarity(s.key, "pinyin"))
    return TrigramWordSimilarity(s.key, "pinyin")


def candidates(places: models.QuerySet, rules: list[Rule]) -> models.QuerySet:
    """The ids of the places any rule selects, as a UNION of one query per rule.

    One WHERE with all the rules OR-ed together would do the same, but PostgreSQL misjudges
    the cost of the trigram operators over many OR branches and may scan the whole table
    (hundreds of ms); each branch alone is planned as the index scan it is.
    """
    selecting = [places.order_by().filter(r.condition).values("pk") for r in rules if r.selects]
    return selecting[0].union(*selecting[1:])


def ranked(rules: list[Rule], s: SearchText) -> tuple[Case, Case]:
    """The rank (the tier; for fuzzy matches 4 - similarity, so 3..4) and the match name.

    A place found by exact, prefix or substring match contains what was typed: its
    similarity is 1, and proximity decides among them. Only fuzzy rows pay for similarity().
    """
    sure = sorted((r for r in rules if r.tier != SIMILAR), key=lambda r: r.tier)
    rank = Case(
        *(When(r.condition, then=Value(float(r.tier))) for r in sure),
        default=Value(float(SIMILAR + 1)) - similarity(s),
        output_field=FloatField(),
    )
    match = Case(*(When(r.condition, then=Value(r.match)) for r in sure), default=Value(FUZZY))
    return rank, match


class PlaceQuerySet(models.QuerySet):
    def search(self, typed: str, near: Point | None = None, limit: int = 10) -> PlaceQuerySet:
        """Places matching what a dispatcher typed, best first, annotated with `match`, `rank`
        and (when `near` is given) `distance_m`: exact, prefix, substring, then fuzzy matches
        by similarity; nearer first among equals, then shorter names."""
        s = SearchText.parse(typed)
        if s.empty:
            return self.none()
        rules = han_rules(s) if s.han else latin_rules(s)
        rank, match = ranked(rules, s)
        found = self.filter(pk__in=candidates(self, rules)).annotate(rank=rank, match=match)
        order: list[Any] = ["rank"]
        if near is not None:
            # <-> on geography: metres on the sphere (within 0.5% of ST_Distance on the
            # spheroid) and cheap, where ST_Distance is costed so high the planner tries JIT.
            found = found.annotate(distance_m=GeometryDistance("point", near))
            order.append("distance_m")
        return found.order_by(*order, Length("name"), "pk")[:limit]

    def nearest(self, point: Point, limit: int = 1, within_m: float = 5000) -> PlaceQuerySet:
        """Named places nearest to a point, nearest first, with `distance_m` (reverse lookup)."""
        return (
            self.filter(point__dwithin=(point, D(m=within_m)))
            .annotate(distance_m=GeometryDistance("point", point))
            .order_by("distance_m")[:limit]
        )


def places() -> PlaceQuerySet:
    """All places, with the gazetteer's QuerySet methods."""
    from dispatch.models import Place

    return PlaceQuerySet(model=Place)


# ---------------------------------------------------------------------------------------------
# Reverse lookup


@dataclass(frozen=True)
class RoadSnap:
    lon: float
    lat: float
    distance_m: float


@dataclass(frozen=True)
class Whereabouts:
    """What is at a point: the nearest named place (with `distance_m`) and the nearest road."""

    place: Place | None
    snap: RoadSnap | None


def road_snap(point: Point) -> RoadSnap | None:
    """The nearest point on the loaded road network, or None when no network is loaded."""
    from fleet.roads.router import get_router  # numba and the graph: only when asked for

    router = get_router()
    if router is None:
        return None
    try:
        snap = router.snap(point.x, point.y)
    except ValueError:  # a network without segments
        return None
    return RoadSnap(lon=snap.lon, lat=snap.lat, distance_m=snap.distance_m)


def whereabouts(point: Point, within_m: float = 5000) -> Whereabouts:
    """Reverse lookup: the nearest named place within `within_m` and the road snap."""
    return Whereabouts(place=places().nearest(point, within_m=within_m).first(), snap=road_snap(point))


# ---------------------------------------------------------------------------------------------
# Duplicates

NEARBY, SAME_CALLER = "nearby", "same_caller"


@dataclass(frozen=True)
class Duplicate:
    """An incident the new call may belong to, and why it is offered."""

    incident: Incident
    reasons: tuple[str, ...]
    distance_m: float | None

    @property
    def reason(self) -> str:
        """The strongest reason: the same number calling again beats being nearby."""
        return self.reasons[0]


def possible_duplicates(
    point: Point | None,
    caller_number: str,
    *,
    now: datetime | None = None,
    radius_m: float = 300,
    window: timedelta = timedelta(minutes=30),
    exclude: int | None = None,
    limit: int = 20,
) -> list[Duplicate]:
    """Open incidents within `radius_m` of the point, and incidents from the same number in
    the last `window` (open or already closed), same number first, then nearest, then newest.

    Incidents already linked into another are left out: the one they were linked to is offered.
    An empty caller number (withheld) matches nothing.
    """
    from dispatch.models import Incident, IncidentStatus

    now = now or timezone.now()
    caller_number = caller_number.strip()
    nearby = Q(status=IncidentStatus.OPEN, location__dwithin=(point, D(m=radius_m))) if point else None
    same = Q(caller_number=caller_number, created_at__gte=now - window) if caller_number else None
    conditions = [c for c in (nearby, same) if c is not None]
    if not conditions:
        return []
    found = Incident.objects.filter(reduce(operator.or_, conditions), linked_to=None)
    found = found.exclude(pk=exclude) if exclude is not None else found
    found = found.annotate(
        is_nearby=flag(nearby),
        is_same_caller=flag(same),
        distance_m=GeometryDistance("location", point) if point else Value(None, models.FloatField()),
    ).order_by(F("is_same_caller").desc(), F("distance_m").asc(nulls_last=True), "-created_at")
    return [duplicate(incident) for incident in found[:limit]]


def flag(condition: Q | None) -> ExpressionWrapper | Value:
    if condition is None:
        return Value(False)
    return ExpressionWrapper(condition, output_field=BooleanField())


class DuplicateFlags(TypedDict):
    """What possible_duplicates annotates on each incident it finds."""

    is_nearby: bool
    is_same_caller: bool
    distance_m: float | None


def duplicate(incident: WithAnnotations[Incident, DuplicateFlags]) -> Duplicate:
    reasons = ((SAME_CALLER,) if incident.is_same_caller else ()) + ((NEARBY,) if incident.is_nearby else ())
    return Duplicate(incident=incident, reasons=reasons, distance_m=incident.distance_m)
