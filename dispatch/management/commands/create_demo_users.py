"""One demo login per role, printed, for `make demo`. Safe to run again."""

from django.core.management.base import BaseCommand, CommandError

from dispatch.crew.actions import start_shift
from dispatch.models import Role, User
from fleet.models import Unit
from hospitals.models import Hospital

DEMO_USERS = [
    ("dispatcher", Role.DISPATCHER, "调度员 演示"),
    ("supervisor", Role.SUPERVISOR, "值班主任 演示"),
    ("crew", Role.CREW, "急救医生 演示"),
    ("hospital", Role.HOSPITAL, "急诊护士 演示"),
    ("admin", Role.ADMIN, "管理员 演示"),
]


def demo_password(username: str) -> str:
    return f"{username}-120"


class Command(BaseCommand):
    help = "Create one demo login per role (demo passwords, printed) and bind the crew to a unit."

    def handle(self, *args, **options) -> None:
        hospital = Hospital.objects.order_by("pk").first()
        unit = Unit.objects.order_by("call_sign").first()
        if hospital is None or unit is None:
            raise CommandError(
                "Load a city first (make_demo_city): the demo crew and hospital logins need them."
            )
        self.stdout.write("Demo logins (user / password / role):")
        for username, role, full_name in DEMO_USERS:
            user = self.ensure_user(username, role, full_name, hospital)
            if role == Role.CREW and not user.shifts.current().exists():
                start_shift(user, unit)
            where = {Role.CREW: f" on {unit.call_sign}", Role.HOSPITAL: f" at {hospital.name}"}.get(role, "")
            self.stdout.write(f"  {username:<11} {demo_password(username):<15} {Role(role).label}{where}")

    def ensure_user(self, username: str, role: str, full_name: str, hospital: Hospital) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, role=role)
        user.role = role
        user.first_name = full_name
        user.hospital = hospital if role == Role.HOSPITAL else None
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.set_password(demo_password(username))
        user.save()
        return user
