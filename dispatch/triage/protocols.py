"""Triage (分级): check, walk and find the question trees that admins keep in TriageProtocol.

A protocol's `questions` is {"start": id, "questions": {id: {"text", "text_en", "hint"?,
"hint_en"?, "answers": [...]}}}; each answer is {"label", "label_en", "next": id} or {"label",
"label_en", "outcome": {"priority": 1-4, "capability", "instruction"?, "hospital_capability"?}}.
English texts may be left out (screens fall back to Chinese); everything else is checked here so
an admin cannot save a tree that strands a dispatcher mid-call.
"""

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dispatch.locate.gazetteer import search_keys
from dispatch.models import CallerInstruction, TriageProtocol
from fleet.models import UnitCapability
from hospitals.models import Capability

log = logging.getLogger(__name__)

# Keys 1 to 9 pick an answer on the console.
MAX_ANSWERS = 9
MAX_DEPTH = 50
MAX_QUESTIONS = 200

QUESTION_KEYS = {"text", "text_en", "hint", "hint_en", "answers"}
ANSWER_KEYS = {"label", "label_en", "next", "outcome"}
OUTCOME_KEYS = {"priority", "capability", "instruction", "hospital_capability"}


class TriageError(ValueError):
    """Answers that do not fit the protocol (an index out of range, answers past the outcome)."""


class BrokenProtocolError(TriageError):
    """A stored protocol that fails validation (saved around the admin form); an admin must fix it."""


# --- Validation ---------------------------------------------------------------------------------
# Problems are sentences in the admin's language (an admin reads them in the editor); ids and
# values are quoted as they are stored, so "question 'pain' answer 2" finds the row.


def validate_protocol(questions: dict, instruction_codes: set[str]) -> None:
    """Raise ValidationError listing every problem in a protocol's question tree."""
    problems = _shape_problems(questions, instruction_codes)
    if not problems:
        problems = _graph_problems(questions["start"], questions["questions"])
    if problems:
        raise ValidationError(problems)


def _shape_problems(tree: object, instruction_codes: set[str]) -> list[str]:
    if not isinstance(tree, dict):
        return [_("The protocol must be a JSON object with “start” and “questions”.")]
    unknown = set(tree) - {"start", "questions"}
    if unknown:
        return [_("Unknown top-level keys: %(names)s.") % {"names": _names(unknown)}]
    nodes = tree.get("questions")
    if not isinstance(nodes, dict) or not nodes:
        return [_("“questions” must be a non-empty object of question id → question.")]
    if len(nodes) > MAX_QUESTIONS:
        return [_("%(count)s questions; at most %(max)s.") % {"count": len(nodes), "max": MAX_QUESTIONS}]
    start = tree.get("start")
    problems = []
    if not _is_one_of(start, nodes):
        message = _("start %(start)r is not a question (%(names)s).")
        problems.append(message % {"start": start, "names": _names(nodes)})
    for qid, node in nodes.items():
        problems += _question_problems(qid, node, set(nodes), instruction_codes)
    return problems


def _question_problems(qid: str, node: object, ids: set[str], instruction_codes: set[str]) -> list[str]:
    if not isinstance(qid, str) or not qid.strip():
        return [_("A question id is empty.")]
    where = _("question %(id)r") % {"id": qid}
    if not isinstance(node, dict):
        return [_("%(where)s must be an object with “text” and “answers”.") % {"where": where}]
    problems = _key_problems(where, node, QUESTION_KEYS)
    problems += _text_problems(where, node, "text", "hint")
    answers = node.get("answers")
    if not isinstance(answers, list) or not answers:
        return [*problems, _("%(where)s has no answers.") % {"where": where}]
    if len(answers) > MAX_ANSWERS:
        problems.append(
            _("%(where)s has %(count)s answers; at most %(max)s (keys 1 to 9).")
            % {"where": where, "count": len(answers), "max": MAX_ANSWERS}
        )
    for i, answer in enumerate(answers, start=1):
        at = _("%(where)s answer %(n)s") % {"where": where, "n": i}
        problems += _answer_problems(at, qid, answer, ids, instruction_codes)
    problems += _same_labels(where, answers)
    return problems


def _same_labels(where: str, answers: list) -> list[str]:
    """Two answers a dispatcher cannot tell apart."""
    labels = [a["label"].strip() for a in answers if isinstance(a, dict) and isinstance(a.get("label"), str)]
    twice = sorted({label for label in labels if label and labels.count(label) > 1})
    return [_("%(where)s has two answers labelled %(label)r.") % {"where": where, "label": t} for t in twice]


def _answer_problems(
    where: str, qid: str, answer: object, ids: set[str], instruction_codes: set[str]
) -> list[str]:
    if not isinstance(answer, dict):
        return [_("%(where)s must be an object with “label” and “next” or “outcome”.") % {"where": where}]
    problems = _key_problems(where, answer, ANSWER_KEYS) + _text_problems(where, answer, "label")
    has_next, has_outcome = "next" in answer, "outcome" in answer
    if has_next and has_outcome:
        message = _("%(where)s has both a next question and an outcome; give exactly one.")
        return [*problems, message % {"where": where}]
    if not has_next and not has_outcome:
        message = _("%(where)s has neither a next question nor an outcome; give exactly one.")
        return [*problems, message % {"where": where}]
    if has_next and not _is_one_of(answer["next"], ids):
        message = _("%(where)s leads to %(next)r, which is not a question.")
        problems.append(message % {"where": where, "next": answer["next"]})
    elif has_next and answer["next"] == qid:
        message = _("%(where)s leads back to its own question: cycle %(id)s → %(id)s.")
        problems.append(message % {"where": where, "id": qid})
    if has_outcome:
        at = _("%(where)s outcome") % {"where": where}
        problems += _outcome_problems(at, answer["outcome"], instruction_codes)
    return problems


def _outcome_problems(where: str, outcome: object, instruction_codes: set[str]) -> list[str]:
    if not isinstance(outcome, dict):
        return [_("%(where)s must be an object with “priority” and “capability”.") % {"where": where}]
    problems = _key_problems(where, outcome, OUTCOME_KEYS)
    priority = outcome.get("priority")
    if priority in (None, ""):
        problems.append(_("%(where)s: choose a priority, I to IV (1 to 4).") % {"where": where})
    elif type(priority) is not int or not 1 <= priority <= 4:
        message = _("%(where)s: priority must be a whole number 1 to 4, not %(value)r.")
        problems.append(message % {"where": where, "value": priority})
    capability = outcome.get("capability")
    if capability in (None, ""):
        problems.append(_("%(where)s: choose the unit capability it needs.") % {"where": where})
    elif capability not in UnitCapability.values:
        problems.append(
            _("%(where)s: capability %(value)r is not one of %(names)s.")
            % {"where": where, "value": capability, "names": _names(UnitCapability.values)}
        )
    hospital = outcome.get("hospital_capability")
    if hospital not in (None, "") and hospital not in Capability.values:
        problems.append(
            _("%(where)s: hospital_capability %(value)r is not one of %(names)s.")
            % {"where": where, "value": hospital, "names": _names(Capability.values)}
        )
    instruction = outcome.get("instruction")
    if instruction not in (None, "") and not _is_one_of(instruction, instruction_codes):
        problems.append(
            _("%(where)s: instruction %(value)r does not exist.") % {"where": where, "value": instruction}
        )
    return problems


def _key_problems(where: str, obj: dict, allowed: set[str]) -> list[str]:
    unknown = set(obj) - allowed
    if not unknown:
        return []
    return [
        _("%(where)s has unknown keys %(names)s (allowed: %(allowed)s).")
        % {"where": where, "names": _names(unknown), "allowed": _names(allowed)}
    ]


def _text_problems(where: str, obj: dict, required: str, *optional: str) -> list[str]:
    """The Chinese text is required; its English twin and optional texts must be text if given."""
    problems = []
    if not isinstance(obj.get(required), str) or not obj[required].strip():
        message = _("%(where)s has an empty “%(key)s” (the Chinese text).")
        problems.append(message % {"where": where, "key": required})
    for key in (f"{required}_en", *optional, *(f"{o}_en" for o in optional)):
        if key in obj and not isinstance(obj[key], str):
            problems.append(_("%(where)s: “%(key)s” must be text.") % {"where": where, "key": key})
    return problems


def _graph_problems(start: str, nodes: dict) -> list[str]:
    """Cycles and questions no path reaches, found by a depth-first walk from the start."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    problems: list[str] = []

    def visit(qid: str, path: list[str]) -> None:
        state[qid] = "open"
        for nxt in _next_ids(nodes[qid]):
            if state.get(nxt) == "open":
                cycle = path[path.index(nxt) :] + [qid, nxt] if nxt in path else [qid, nxt]
                problems.append(_("The questions loop: cycle %(path)s.") % {"path": " → ".join(cycle)})
            elif nxt not in state:
                visit(nxt, [*path, qid])
        state[qid] = "done"

    visit(start, [])
    unreached = [qid for qid in nodes if qid not in state]
    if unreached:
        message = _("No answer leads to %(names)s; remove or link them.")
        problems.append(message % {"names": _names(unreached)})
    if not problems and _depth(start, nodes, {}) > MAX_DEPTH:
        problems.append(_("A path asks more than %(max)s questions.") % {"max": MAX_DEPTH})
    return problems


def _next_ids(node: dict) -> list[str]:
    return [a["next"] for a in node["answers"] if "next" in a]


def _depth(qid: str, nodes: dict, memo: dict[str, int]) -> int:
    """Questions on the longest path from qid (memoized: branches may share questions)."""
    if qid not in memo:
        memo[qid] = 1 + max((_depth(n, nodes, memo) for n in _next_ids(nodes[qid])), default=0)
    return memo[qid]


def _is_one_of(value: object, keys: Iterable[str]) -> bool:
    """A string among these keys (JSON can hold lists where ids belong; those are not hashable)."""
    return isinstance(value, str) and value in keys


def _names(items: Iterable[str]) -> str:
    return ", ".join(sorted(str(i) for i in items))


def instruction_codes_in(questions: object) -> set[str]:
    """The instruction codes a protocol's outcomes name (tolerates a broken tree)."""
    nodes = questions.get("questions") if isinstance(questions, dict) else None
    answers = [
        a
        for node in (nodes.values() if isinstance(nodes, dict) else [])
        if isinstance(node, dict) and isinstance(node.get("answers"), list)
        for a in node["answers"]
        if isinstance(a, dict) and isinstance(a.get("outcome"), dict)
    ]
    codes = (a["outcome"].get("instruction") for a in answers)
    return {code for code in codes if isinstance(code, str) and code}


def protocols_using(code: str) -> list[TriageProtocol]:
    """Protocols whose outcomes read this instruction to the caller."""
    return [p for p in TriageProtocol.objects.all() if code in instruction_codes_in(p.questions)]


def outcome_paths(questions: dict) -> Iterator[tuple[list[int], dict]]:
    """Every way through a sound protocol: the answer indexes from the start and the outcome."""
    nodes = questions["questions"]

    def walk(qid: str, answers: list[int]) -> Iterator[tuple[list[int], dict]]:
        for index, answer in enumerate(nodes[qid]["answers"]):
            if "next" in answer:
                yield from walk(answer["next"], [*answers, index])
            else:
                yield [*answers, index], answer["outcome"]

    return walk(questions["start"], [])


# --- Evaluation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    priority: int
    capability: str
    hospital_capability: str | None
    instruction: CallerInstruction | None


@dataclass(frozen=True)
class PathStep:
    question: str
    text: str
    text_en: str
    answer: int
    label: str
    label_en: str


@dataclass(frozen=True)
class TriageStep:
    """Where the answers so far lead: the next question to ask, or the outcome."""

    protocol: TriageProtocol
    answers: list[int]
    path: list[PathStep]
    question_id: str | None = None
    question: dict | None = None
    outcome: Outcome | None = None

    @property
    def done(self) -> bool:
        return self.outcome is not None


def evaluate(protocol: TriageProtocol, answers: list[int]) -> TriageStep:
    """Walk the protocol with the chosen answer index (from 0) for each question on the path."""
    try:
        return _walk(protocol, answers)
    except (KeyError, TypeError, AttributeError) as exc:
        raise BrokenProtocolError(f"Triage protocol {protocol.code!r} is broken ({exc!r}).") from exc


def _walk(protocol: TriageProtocol, answers: list[int]) -> TriageStep:
    nodes = protocol.questions["questions"]
    qid: str = protocol.questions["start"]
    path: list[PathStep] = []
    for n, index in enumerate(answers):
        node = nodes[qid]
        answer = _chosen(node, qid, index)
        path.append(_path_step(qid, node, index, answer))
        if "outcome" in answer:
            if n + 1 < len(answers):
                extra = len(answers) - n - 1
                raise TriageError(f"Triage ended at question {qid!r}; {extra} answers too many.")
            return TriageStep(protocol, list(answers), path, outcome=_outcome(answer["outcome"]))
        qid = answer["next"]
    return TriageStep(protocol, list(answers), path, question_id=qid, question=nodes[qid])


def _chosen(node: dict, qid: str, index: int) -> dict:
    count = len(node["answers"])
    if type(index) is not int or not 0 <= index < count:
        raise TriageError(f"Question {qid!r} has answers 0 to {count - 1}; {index!r} is not one of them.")
    return node["answers"][index]


def _path_step(qid: str, node: dict, index: int, answer: dict) -> PathStep:
    return PathStep(
        question=qid,
        text=node["text"],
        text_en=node.get("text_en", ""),
        answer=index,
        label=answer["label"],
        label_en=answer.get("label_en", ""),
    )


def _outcome(data: dict) -> Outcome:
    code = data.get("instruction") or None
    instruction = CallerInstruction.objects.filter(code=code).first() if code else None
    if code and instruction is None:
        # The priority still stands; a missing script must not stop the dispatch.
        log.warning("Triage outcome names instruction %r, which does not exist", code)
    return Outcome(
        priority=data["priority"],
        capability=data["capability"],
        hospital_capability=data.get("hospital_capability") or None,
        instruction=instruction,
    )


# --- Finding a protocol from what the dispatcher types ------------------------------------------

_SPLIT = re.compile(r"[\s,，、;；/|]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Scores: the better the kind of match, the higher the protocol ranks.
NAME, TERM, CONTAINS_TERM, PARTIAL = 100, 90, 80, 70
PINYIN_TERM, PINYIN, ENGLISH, INITIALS, INITIALS_PREFIX = 65, 60, 50, 40, 30


def suggest_protocols(
    text: str, protocols: Iterable[TriageProtocol] | None = None, limit: int = 5
) -> list[TriageProtocol]:
    """Active protocols matching a typed complaint in Chinese, pinyin, initials or English, best first."""
    query = _normalize(text)
    if not query:
        return []
    if protocols is None:
        protocols = TriageProtocol.objects.filter(active=True)
    scored = [(score, p) for p in protocols if (score := match_score(query, p))]
    scored.sort(key=lambda sp: (-sp[0], sp[1].order, sp[1].code))
    return [p for _, p in scored[:limit]]


def match_score(query: str, protocol: TriageProtocol) -> int:
    """How well a normalized query names this protocol; 0 when it does not."""
    terms = _terms(protocol)
    if _HAN.search(query):
        return _chinese_score(query, protocol.name, terms)
    return max(_latin_score(query, terms), default=0)


def _chinese_score(query: str, name: str, terms: tuple[str, ...]) -> int:
    chinese = [t for t in terms if _HAN.search(t)]
    if query == _normalize(name):
        return NAME
    if query in chinese:
        return TERM
    if any(t in query for t in chinese):  # 病人胸口痛三小时
        return CONTAINS_TERM
    if any(query in t for t in chinese):  # still typing: 胸
        return PARTIAL
    # A wrong character from the input method (胸通) still has the right sound.
    spoken = search_keys(query)[0]
    return PINYIN if len(spoken) >= 4 and any(spoken in _keys(t)[0] for t in chinese) else 0


def _latin_score(query: str, terms: tuple[str, ...]) -> Iterable[int]:
    words = query.split()
    squashed = "".join(words)
    if len(squashed) < 2:
        return
    for term in terms:
        if _HAN.search(term):
            full, initials = _keys(term)
            if squashed == full:
                yield PINYIN_TERM
            elif (len(squashed) >= 3 and squashed in full) or (len(full) >= 4 and full in squashed):
                yield PINYIN
            elif initials.startswith(squashed):
                yield INITIALS if initials == squashed else INITIALS_PREFIX
    latin = [t for t in terms if not _HAN.search(t)]
    if all(any(w.startswith(q) for w in latin) for q in words):
        yield ENGLISH


def pinyin_keys(protocol: TriageProtocol, name_only: bool = False) -> list[str]:
    """Full pinyin and initials of the protocol's Chinese search words (胸痛: xiongtong, xt), or of
    its name's only, so the console can match what a dispatcher types in pinyin without asking
    the server, and rank a complaint's own name above another's search word (溺水 over 扭伤: ns)."""
    keys: list[str] = []
    for term in _terms(protocol, name_only):
        if _HAN.search(term):
            keys += _keys(term)
    return list(dict.fromkeys(k for k in keys if k))


def _terms(protocol: TriageProtocol, name_only: bool = False) -> tuple[str, ...]:
    raw = protocol.name if name_only else " ".join([protocol.name, protocol.name_en, protocol.keywords])
    return tuple(t for t in _SPLIT.split(_normalize(raw)) if t)


def _normalize(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


@lru_cache(maxsize=4096)
def _keys(term: str) -> tuple[str, str]:
    return search_keys(term)
