"""Print a new VAPID key pair for Web Push crew alerts (dispatch/crew/push.py), as the lines to
put into the environment (var/env, or the service's). Nothing is stored: the private key is the
centre's secret. A new pair makes every tablet subscribe again (tablet-push.js does so by itself
at its next load: a subscription made with the old public key is answered 403 by the push
service and replaced)."""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Command(BaseCommand):
    help = "Print a new VAPID key pair (VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY) for crew alerts."

    def handle(self, *args, **options) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        private = key.private_numbers().private_value.to_bytes(32, "big")
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.stdout.write(f"VAPID_PRIVATE_KEY={b64url(private)}\nVAPID_PUBLIC_KEY={b64url(public)}\n")
