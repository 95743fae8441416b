"""The provider-neutral call event every adapter produces."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CallEventKind(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"  # a dispatcher (agent) picked up
    ENDED = "ended"
    RECORDING = "recording"  # the recording is ready


class TelephonyError(Exception):
    """A provider request we refuse: bad signature or secret (403), bad content (400)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class CallEvent:
    provider: str
    call_id: str
    kind: CallEventKind
    at: datetime
    caller: str = ""
    called: str = ""
    agent: str = ""  # the username of the dispatcher who answered, when the PBX knows it
    recording_url: str = ""
    detail: str = ""  # the provider's own status word, kept for the log
