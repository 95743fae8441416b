"""One demo login per role for `make demo`, each with a random password printed once.

Demo mode only (DEMO_MODE=1): anywhere else these well-known names would be accounts anyone
could guess at. An account that already exists is left exactly as it is (password, role,
hospital), so running it again, or against a database with real users, never takes over a login.
"""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dispatch.crew.actions import start_shift
from dispatch.models import Role, User
from dispatch.roster.actions import roster_now
from fleet.models import Unit
from hospitals.models import Hospital

DEMO_USERS = [
    ("dispatcher", Role.DISPATCHER, "调度员 演示"),
    ("supervisor", Role.SUPERVISOR, "值班主任 演示"),
    ("crew", Role.CREW, "急救医生 演示"),
    ("hospital", Role.HOSPITAL, "急诊护士 演示"),
    ("admin", Role.ADMIN, "管理员 演示"),
    ("station", Role.STATION, "分站大屏 演示"),
    ("wallboard", Role.WALLBOARD, "调度大厅大屏 演示"),
]
PASSWORD_BYTES = 12  # 16 URL-safe characters


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


class Command(BaseCommand):
    help = (
        "Demo mode only (DEMO_MODE=1): create one demo login per role with a random password, "
        "printed once; accounts that already exist are left alone."
    )

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "create_demo_users runs only in demo mode (DEMO_MODE=1): it makes logins with "
                "well-known names. Nothing was changed."
            )
        hospital = Hospital.objects.order_by("pk").first()
        unit = Unit.objects.order_by("call_sign").first()
        if hospital is None or unit is None:
            raise CommandError(
                "Load a city first (make_demo_city): the demo crew and hospital logins need them."
            )
        self.stdout.write("Demo logins (user / password / role); the passwords are shown this once:")
        for username, role, full_name in DEMO_USERS:
            where = {
                Role.CREW: f" on {unit.call_sign}",
                Role.HOSPITAL: f" at {hospital.name}",
                Role.STATION: f" at {unit.home_station}",
            }.get(role, "")
            password = self.create_user(username, role, full_name, hospital, unit)
            if password is None:
                self.stdout.write(f"  {username:<11} exists, left alone (password and role unchanged)")
            else:
                self.stdout.write(f"  {username:<11} {password:<17} {Role(role).label}{where}")

    @transaction.atomic
    def create_user(
        self, username: str, role: str, full_name: str, hospital: Hospital, unit: Unit
    ) -> str | None:
        """The new account's password, or None when the name is taken (that account is not touched)."""
        if User.objects.filter(username=username).exists():
            return None
        password = new_password()
        user = User.objects.create_user(
            username,
            password=password,
            role=role,
            first_name=full_name,
            hospital=hospital if role == Role.HOSPITAL else None,
            station=unit.home_station if role == Role.STATION else None,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        if role == Role.CREW:
            # Rostered first, as every crew is; joins the unit's simulator crew on it.
            roster_now(user, unit, hours=12)
            start_shift(user, unit)
        return password
