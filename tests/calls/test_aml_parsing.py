"""AML messages (ETSI TS 103 625) in both forms parse into one fix; malformed ones are refused
with a message that says what is wrong."""

from datetime import UTC, datetime

import pytest

from dispatch.calls.aml import AmlError, parse_https, parse_sms
from tests.support.calls_helpers import HTTPS

SMS = (
    'A"ML=1;lt=+24.95120;lg=+119.60120;rd=15;top=20261201050030;lc=68;pm=G;'
    "si=460001234567890;ei=356708041746734;mcc=460;mnc=00;ml=124"
)


def test_sms_form():
    fix = parse_sms(SMS, "+8613912345678")
    assert (fix.form, fix.number, fix.lat, fix.lon) == ("sms", "+8613912345678", 24.9512, 119.6012)
    assert fix.accuracy_m == 15 and fix.confidence == 68 and fix.method == "gnss"
    assert fix.measured_at == datetime(2026, 12, 1, 5, 0, 30, tzinfo=UTC)
    assert fix.raw["mcc"] == "460"


def test_sms_form_with_western_and_southern_signs():
    fix = parse_sms('A"ML=1;lt=-33.85680;lg=-004.26881;rd=50;top=20130717093015;lc=68;pm=W', "+441234")
    assert (fix.lat, fix.lon, fix.method) == (-33.8568, -4.26881, "wifi")


def test_sms_without_a_position_says_so():
    fix = parse_sms('A"ML=1;top=20261201050030;pm=N', "+8613912345678")
    assert not fix.has_position


def test_https_form():
    fix = parse_https(HTTPS)
    assert (fix.form, fix.number, fix.lat, fix.lon) == ("https", "+8613912345678", 24.9512, 119.6012)
    assert fix.accuracy_m == 10.4 and fix.method == "gnss" and fix.confidence == 83
    assert fix.measured_at == datetime(2026, 12, 1, 5, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lt=24.9;lg=119.6", 'start with A"ML='),
        ('A"ML=1;lt=24.9;pm=G', "without lt/lg"),
        ('A"ML=1;lt=95.1;lg=119.6;pm=G', "outside -90 to 90"),
        ('A"ML=1;lt=north;lg=119.6;pm=G', "not a number"),
        ('A"ML=1;lt=24.9;lg=119.6;pm=X', "positioning method"),
        ('A"ML=1;lt=24.9;lg=119.6;pm=G;top=2026-12-01', "YYYYMMDDhhmmss"),
        ('A"ML=1;lt=24.9;lg=119.6;pm=G;rd=-3', r"rd \(radius\)"),
        ('A"ML=1;lt=24.9;lg=119.6;garbage', "without '='"),
        ('A"ML=x;lt=24.9;lg=119.6;pm=G', "version"),
        ('A"ML=1;' + "x=1;" * 400, "too long"),
    ],
)
def test_malformed_sms(text, message):
    with pytest.raises(AmlError, match=message):
        parse_sms(text, "+8613912345678")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"device_number": ""}, "device_number"),
        ({"location_latitude": None}, "required"),
        ({"location_longitude": "200"}, "outside"),
        ({"location_time": "yesterday"}, "location_time"),
        ({"location_accuracy": "-1"}, "location_accuracy"),
        ({"location_certainty": "150"}, "location_certainty"),
    ],
)
def test_malformed_https(change, message):
    params = {**HTTPS, **change}
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(AmlError, match=message):
        parse_https(params)
