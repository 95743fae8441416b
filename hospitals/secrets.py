"""Secrets the system must send on (a hospital's FHIR client secret), kept sealed in the database.

Sealed with Fernet (AES-128-CBC with an HMAC) under DATA_ENCRYPTION_KEY from the environment, so
a copy of the database or a backup alone does not hand out the hospitals' credentials. A sealed
value reads "sealed:v1:<token>"; anything else is refused, never sent.
"""

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "sealed:v1:"


def fernet() -> Fernet:
    key = settings.DATA_ENCRYPTION_KEY
    if not key:
        raise ImproperlyConfigured(
            "DATA_ENCRYPTION_KEY is not set: a secret cannot be stored or read without it "
            "(make demo and make test write one into var/env; generate one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)."
        )
    return Fernet(key.encode())


def seal(secret: str) -> str:
    """The secret as it may be stored ("" stays "": no secret)."""
    return PREFIX + fernet().encrypt(secret.encode()).decode() if secret else ""


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def unseal(value: str) -> str:
    """The stored secret in clear, for the moment it is sent; "" for none."""
    if not value:
        return ""
    if not is_sealed(value):
        raise ImproperlyConfigured("A stored secret is not sealed: run `manage.py migrate`.")
    try:
        return fernet().decrypt(value.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored secret does not open with DATA_ENCRYPTION_KEY.") from exc
