"""create_demo_users runs in demo mode only, gives each new login a random password printed
once, and never touches an account that already exists (its password, role or hospital)."""

import io
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dispatch.models import Role, User
from fleet.models import CrewShift

NAMES = ["dispatcher", "supervisor", "crew", "hospital", "admin", "station", "wallboard"]
ROOT = Path(__file__).resolve().parents[2]


def run() -> str:
    out = io.StringIO()
    call_command("create_demo_users", stdout=out)
    return out.getvalue()


def printed_passwords(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\w+)\s+(\S{16})\s", text, re.M))


def test_outside_demo_mode_it_refuses_and_creates_nothing(world, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="DEMO_MODE=1"):
        run()
    assert not User.objects.filter(username__in=NAMES).exists()


def test_each_login_gets_a_random_password_shown_once(world, settings):
    settings.DEMO_MODE = True
    first = printed_passwords(run())
    assert sorted(first) == sorted(NAMES)
    assert len(set(first.values())) == len(NAMES)  # none shared, none the old `<name>-120`
    for name, password in first.items():
        user = User.objects.get(username=name)
        assert user.check_password(password) and not user.check_password(f"{name}-120")
    assert User.objects.get(username="hospital").hospital is not None
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="station").station is not None  # its station's jobs ring on it
    assert User.objects.get(username="wallboard").role == Role.WALLBOARD
    assert CrewShift.objects.current().filter(user__username="crew").count() == 1
    # run again: nothing printed that signs anyone in, nothing changed
    again = run()
    assert printed_passwords(again) == {}
    assert again.count("exists, left alone") == len(NAMES)
    for name, password in first.items():
        assert User.objects.get(username=name).check_password(password)
        assert password not in again


def test_an_existing_account_keeps_its_password_role_and_hospital(world, settings):
    settings.DEMO_MODE = True
    real = User.objects.create_user(
        "admin", password="护士长的密码 <&>", role=Role.HOSPITAL, hospital=world.county
    )
    crew = User.objects.create_user("crew", password="pw-crew-x", role=Role.CREW)
    text = run()
    real.refresh_from_db()
    assert real.check_password("护士长的密码 <&>")
    assert (real.role, real.hospital, real.is_superuser, real.is_staff) == (
        Role.HOSPITAL,
        world.county,
        False,
        False,
    )
    assert re.search(r"^\s+admin\s+exists, left alone", text, re.M)
    assert crew.shifts.current().count() == 0  # not put on a shift behind its owner's back
    assert sorted(printed_passwords(text)) == ["dispatcher", "hospital", "station", "supervisor", "wallboard"]


def test_the_makefile_demo_target_runs_it_in_demo_mode():
    plan = subprocess.run(
        ["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    (line,) = [ln for ln in plan.splitlines() if "create_demo_users" in ln]
    assert re.search(r"(^|\s|&&\s*)(export )?DEMO_MODE=1\b", line), line


def test_no_document_publishes_a_fixed_demo_password():
    published = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for path in published:
        text = path.read_text(encoding="utf-8")
        for name in NAMES:
            assert f"{name}-120" not in text, path
