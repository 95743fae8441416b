"""Advanced Mobile Location (ETSI TS 103 625): the handset's own fix, sent when it dials an
emergency number, by SMS or by HTTPS. Both forms parse into one AmlFix; anything malformed is
an AmlError with a message saying what is wrong (and nothing is stored).

SMS form (the text of an SMS; the sender is the SMS's originating address):
    A"ML=1;lt=+55.74317;lg=-004.26881;rd=50;top=20130717093015;lc=68;pm=G;si=...;ei=...;mcc=234;mnc=30;ml=128
  lt/lg degrees WGS-84, rd radius in metres, top the time of positioning (UTC, YYYYMMDDhhmmss),
  lc level of confidence (%), pm positioning method (G GNSS, W Wi-Fi, C cell, N none),
  ml the message length (kept, not enforced: SMS centres differ in what they count).

HTTPS form (application/x-www-form-urlencoded POST):
    v=3&device_number=%2B447477593102&location_latitude=55.74317&location_longitude=-4.26881
    &location_time=1476189444435&location_accuracy=10.4&location_source=gps&location_certainty=83...
  location_time in milliseconds since the epoch; location_source gps, wifi, cell, ...
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

SMS_HEADER = 'A"ML='
SMS_METHODS = {"G": "gnss", "W": "wifi", "C": "cell", "H": "hybrid", "N": ""}
HTTPS_METHODS = {"gps": "gnss", "gnss": "gnss", "wifi": "wifi", "cell": "cell", "hybrid": "hybrid"}
MAX_TEXT = 1000


class AmlError(ValueError):
    pass


@dataclass(frozen=True)
class AmlFix:
    form: str  # "sms" or "https"
    number: str
    lat: float | None  # None: the handset found no position (pm=N)
    lon: float | None
    accuracy_m: float | None
    measured_at: datetime | None
    method: str
    confidence: int | None
    raw: dict = field(default_factory=dict)

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None


def number_in(value: str, name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise AmlError(f"{name} is not a number: {value!r}.") from exc
    if not low <= number <= high:
        raise AmlError(f"{name} {number} is outside {low} to {high}.")
    return number


def optional(fields: Mapping[str, str], key: str, name: str, low: float, high: float) -> float | None:
    value = (fields.get(key) or "").strip()
    return number_in(value, name, low, high) if value else None


def sms_fields(text: str) -> dict[str, str]:
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise AmlError(f"AML SMS is too long ({len(text)} characters).")
    if not text.startswith(SMS_HEADER):
        raise AmlError('Not an AML SMS: it must start with A"ML=.')
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if not sep:
            raise AmlError(f"AML field without '=': {part!r}.")
        fields[key.strip()] = value.strip()
    return fields


def sms_time(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise AmlError(f"top (time of positioning) must be YYYYMMDDhhmmss, not {value!r}.") from exc


def parse_sms(text: str, sender: str) -> AmlFix:
    """The SMS form; `sender` is the originating address the SMS centre gives."""
    fields = sms_fields(text)
    version = fields.get('A"ML', "")
    if not version.isdigit():
        raise AmlError(f"Unknown AML version {version!r}.")
    method_code = fields.get("pm", "")
    if method_code not in SMS_METHODS:
        raise AmlError(f"pm (positioning method) must be one of G, W, C, H, N, not {method_code!r}.")
    if method_code == "N":
        lat = lon = None
    else:
        if "lt" not in fields or "lg" not in fields:
            raise AmlError("AML SMS without lt/lg (latitude/longitude).")
        lat = number_in(fields["lt"], "lt (latitude)", -90, 90)
        lon = number_in(fields["lg"], "lg (longitude)", -180, 180)
    return AmlFix(
        form="sms",
        number=sender.strip(),
        lat=lat,
        lon=lon,
        accuracy_m=optional(fields, "rd", "rd (radius)", 0, 100_000),
        measured_at=sms_time(fields["top"]) if fields.get("top") else None,
        method=SMS_METHODS[method_code],
        confidence=int(optional(fields, "lc", "lc (confidence)", 0, 100) or 0) or None,
        raw=fields,
    )


def https_time(value: str) -> datetime:
    milliseconds = number_in(value, "location_time", 0, 32_503_680_000_000)  # up to year 3000
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def parse_https(params: Mapping[str, str]) -> AmlFix:
    """The HTTPS form's parameters (already URL-decoded)."""
    raw = {k: str(v) for k, v in params.items()}
    number = raw.get("device_number", "").strip()
    if not number:
        raise AmlError("device_number is missing.")
    if "location_latitude" not in raw or "location_longitude" not in raw:
        raise AmlError("location_latitude and location_longitude are required.")
    source = raw.get("location_source", "").strip().lower()
    return AmlFix(
        form="https",
        number=number,
        lat=number_in(raw["location_latitude"], "location_latitude", -90, 90),
        lon=number_in(raw["location_longitude"], "location_longitude", -180, 180),
        accuracy_m=optional(raw, "location_accuracy", "location_accuracy", 0, 100_000),
        measured_at=https_time(raw["location_time"]) if raw.get("location_time") else None,
        method=HTTPS_METHODS.get(source, source[:20]),
        confidence=int(optional(raw, "location_certainty", "location_certainty", 0, 100) or 0) or None,
        raw=raw,
    )
