"""Signing in to a hospital's FHIR endpoint: OAuth 2.0 client credentials (RFC 6749 section
4.4), what hospital integration engines and SMART's backend services accept for one system
calling another. The client authenticates at the token URL with HTTP Basic (section 2.3.1, which
every server must support) and sends the access token as a Bearer header (RFC 6750).

Tokens are kept per process until shortly before they expire; an endpoint that answers 401 gets
a fresh token on the next attempt (dispatch.handoff.delivery forgets the old one). A hospital without a
token URL is called without a header.
"""

import threading
import time

import requests
from django.conf import settings

from hospitals.fhir import FhirError
from hospitals.models import Hospital
from hospitals.secrets import unseal

# Renew this long before the token says it expires: the clocks and the trip differ a little.
EARLY_S = 30
DEFAULT_LIFETIME_S = 300  # "expires_in" is only RECOMMENDED

_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_lock = threading.Lock()


def headers_for(hospital: Hospital | None) -> dict[str, str]:
    if hospital is None or not hospital.fhir_token_url:
        return {}
    return {"Authorization": f"Bearer {access_token(hospital)}"}


def access_token(hospital: Hospital) -> str:
    key = (hospital.fhir_token_url, hospital.fhir_client_id)
    with _lock:
        token, expires = _tokens.get(key, ("", 0.0))
    if token and time.monotonic() < expires:
        return token
    token, lifetime = request_token(hospital)
    with _lock:
        _tokens[key] = (token, time.monotonic() + max(lifetime - EARLY_S, 1))
    return token


def request_token(hospital: Hospital) -> tuple[str, float]:
    data = {"grant_type": "client_credentials"}
    if hospital.fhir_scope:
        data["scope"] = hospital.fhir_scope
    try:
        response = requests.post(
            hospital.fhir_token_url,
            data=data,
            auth=(hospital.fhir_client_id, unseal(hospital.fhir_client_secret)),
            headers={"Accept": "application/json"},
            timeout=settings.FHIR_TIMEOUT_SECONDS,
            allow_redirects=False,  # a credential goes only where it was configured to go
        )
    except requests.RequestException as exc:
        raise FhirError(f"cannot reach the token URL: {type(exc).__name__}") from exc
    if response.status_code != 200:
        # Not permanent: a wrong secret is fixed by an administrator, and the row must then go.
        # Only the status is kept: an error page may echo what was sent.
        raise FhirError(f"token URL answered HTTP {response.status_code}")
    try:
        body = response.json()
        return str(body["access_token"]), float(body.get("expires_in") or DEFAULT_LIFETIME_S)
    except (ValueError, KeyError, TypeError) as exc:
        raise FhirError("the token URL's answer has no access_token") from exc


def forget(hospital: Hospital | None) -> None:
    """Drop the hospital's token: the endpoint refused it (revoked, or expired early)."""
    if hospital is not None:
        with _lock:
            _tokens.pop((hospital.fhir_token_url, hospital.fhir_client_id), None)
