"""Which addresses the system may send patient data to: a hospital's FHIR endpoint and its token
URL must be https; plain http only on this machine's own loopback addresses (a test server, a
local interface engine), where nothing crosses a network."""

import ipaddress
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def may_carry_patient_data(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or ""))


def https_only(url: str) -> None:
    """Model validator for the FHIR addresses."""
    if url and not may_carry_patient_data(url):
        raise ValidationError(_("Patient data goes only to https addresses."), code="not_https")
