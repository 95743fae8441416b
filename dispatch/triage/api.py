"""Triage for the console: the protocols to run client-side, complaint search, and evaluation."""

import logging
from typing import Annotated

from django.core.exceptions import ValidationError
from ninja import Query, Router, Schema
from pydantic import Field

from dispatch.core.actions import ActionError
from dispatch.core.openapi import errors
from dispatch.core.permissions import CONTROL_ROOM, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import CallerInstruction, TriageProtocol
from dispatch.triage import protocols as triage

log = logging.getLogger(__name__)

router = Router(tags=["triage"])


class OutcomeOut(Schema):
    priority: int
    capability: str
    hospital_capability: str | None = None
    instruction: str | None = Field(None, description="CallerInstruction code")


class AnswerOut(Schema):
    label: str
    label_en: str = ""
    next: str | None = Field(None, description="id of the next question")
    outcome: OutcomeOut | None = None


class QuestionOut(Schema):
    id: str
    text: str
    text_en: str = ""
    hint: str = ""
    hint_en: str = ""
    answers: list[AnswerOut]


class InstructionOut(Schema):
    code: str
    title: str
    title_en: str
    steps: list[str]
    steps_en: list[str]
    cpr: bool


class ProtocolOut(Schema):
    code: str
    name: str
    name_en: str
    keywords: str
    pinyin: list[str] = Field(description="full pinyin and initials of its Chinese search words")
    name_pinyin: list[str] = Field(description="full pinyin and initials of the words of its Chinese name")
    order: int
    start: str
    questions: dict[str, QuestionOut]
    instructions: dict[str, InstructionOut] = Field(description="the instructions its outcomes name, by code")


def question_out(qid: str, node: dict) -> dict:
    return {**node, "id": qid}


def instruction_out(instruction: CallerInstruction) -> dict:
    return {
        "code": instruction.code,
        "title": instruction.title,
        "title_en": instruction.title_en,
        "steps": instruction.steps,
        "steps_en": instruction.steps_en,
        "cpr": instruction.cpr,
    }


def protocol_out(protocol: TriageProtocol, instructions: dict[str, CallerInstruction]) -> dict:
    codes = triage.instruction_codes_in(protocol.questions)
    return {
        "code": protocol.code,
        "name": protocol.name,
        "name_en": protocol.name_en,
        "keywords": protocol.keywords,
        "pinyin": triage.pinyin_keys(protocol),
        "name_pinyin": triage.pinyin_keys(protocol, name_only=True),
        "order": protocol.order,
        "start": protocol.questions["start"],
        "questions": {qid: question_out(qid, n) for qid, n in protocol.questions["questions"].items()},
        "instructions": {c: instruction_out(instructions[c]) for c in sorted(codes) if c in instructions},
    }


@router.get(
    "/triage/protocols",
    response={200: list[ProtocolOut], **errors(403)},
    summary="Active triage protocols, in full",
)
def protocols(request: SignedInRequest) -> list[dict]:
    require_role(request, *CONTROL_ROOM)
    instructions = {i.code: i for i in CallerInstruction.objects.all()}
    active = TriageProtocol.objects.filter(active=True)
    return [protocol_out(p, instructions) for p in active if is_sound(p, set(instructions))]


def is_sound(protocol: TriageProtocol, instruction_codes: set[str]) -> bool:
    """One protocol broken outside the admin must not take the whole list down with it."""
    try:
        triage.validate_protocol(protocol.questions, instruction_codes)
    except ValidationError as exc:
        log.error("Triage protocol %r is broken and left out: %s", protocol.code, exc.messages)
        return False
    return True


class SuggestQuery(Schema):
    q: str = Field("", max_length=100, description="what the dispatcher typed: 胸痛, xiongtong, chest")
    limit: int = Field(5, ge=1, le=20)


class SuggestionOut(Schema):
    code: str
    name: str
    name_en: str


@router.get(
    "/triage/suggest",
    response={200: list[SuggestionOut], **errors(403)},
    summary="Protocols matching a typed complaint",
)
def suggest(request: SignedInRequest, q: Query[SuggestQuery]) -> list[TriageProtocol]:
    require_role(request, *CONTROL_ROOM)
    return triage.suggest_protocols(q.q, limit=q.limit)


class EvaluateIn(Schema):
    protocol: str = Field(..., min_length=1, max_length=50)
    answers: list[Annotated[int, Field(ge=0, lt=triage.MAX_ANSWERS)]] = Field(
        default_factory=list, max_length=triage.MAX_DEPTH, description="answer index from 0, per question"
    )


class PathStepOut(Schema):
    question: str
    text: str
    text_en: str
    answer: int
    label: str
    label_en: str


class TriageOutcomeOut(Schema):
    priority: int
    capability: str
    hospital_capability: str | None
    instruction: InstructionOut | None


class StepOut(Schema):
    protocol: str
    answers: list[int]
    done: bool
    path: list[PathStepOut]
    question: QuestionOut | None
    outcome: TriageOutcomeOut | None


def step_out(step: triage.TriageStep) -> dict:
    return {
        "protocol": step.protocol.code,
        "answers": step.answers,
        "done": step.done,
        "path": step.path,
        "question": next_question(step),
        "outcome": outcome_out(step.outcome) if step.outcome else None,
    }


def next_question(step: triage.TriageStep) -> dict | None:
    # The walk sets question_id and question together, on the step that still asks.
    if step.question_id is None or not step.question:
        return None
    return question_out(step.question_id, step.question)


def outcome_out(outcome: triage.Outcome) -> dict:
    return {
        "priority": outcome.priority,
        "capability": outcome.capability,
        "hospital_capability": outcome.hospital_capability,
        "instruction": instruction_out(outcome.instruction) if outcome.instruction else None,
    }


@router.post(
    "/triage/evaluate", response={200: StepOut, **errors(404)}, summary="The next question, or the outcome"
)
def evaluate(request: SignedInRequest, payload: EvaluateIn) -> dict:
    require_role(request, *CONTROL_ROOM)
    protocol = TriageProtocol.objects.filter(code=payload.protocol, active=True).first()
    if protocol is None:
        raise ActionError(f"No active triage protocol {payload.protocol!r}.", "unknown_protocol", 404)
    try:
        return step_out(triage.evaluate(protocol, payload.answers))
    except triage.BrokenProtocolError as exc:
        raise ActionError(f"{exc} An admin must fix it.", "broken_protocol", 500) from exc
    except triage.TriageError as exc:
        raise ActionError(str(exc), "bad_answer") from exc
