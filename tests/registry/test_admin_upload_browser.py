"""An administrator loads the example centre from the admin: upload, the dry run's report (nothing
written yet), then Import; the import is one audit entry and each record its own event. A file with
an error shows its line and offers no Import."""

import os
from pathlib import Path

import pytest

from dispatch.models import Event, Role, User
from fleet.models import Station, Unit
from tests.registry.centre_files import EXAMPLES, row_counts
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_user(
        "erin", password="pw-erin-120", role=Role.ADMIN, is_staff=True, is_superuser=True
    )


def test_upload_check_then_import(browser, live_url, admin_user, tmp_path):  # noqa: F811
    shots = os.environ.get("REGISTRY_SCREENSHOTS")
    page = signed_in_page(browser, live_url, admin_user, viewport={"width": 1366, "height": 768})
    page.goto(f"{live_url}/admin/")
    page.click("#registry-import-link a")
    files = sorted(str(p) for p in EXAMPLES.iterdir())
    page.set_input_files("input[name=files]", files)
    before = row_counts()
    page.click("button[name=check]")
    page.wait_for_selector("#centre-import-form")
    counts = page.inner_text("#centre-counts")
    assert "units.csv" in counts and "users.csv" in counts
    assert "19" in page.inner_text("#centre-verdict")
    if shots:
        page.screenshot(path=str(Path(shots) / "import-dry-run-1366.png"), full_page=True)
    assert row_counts() == before  # the dry run wrote nothing

    page.click("#centre-import-form button[name=import]")
    page.wait_for_selector("#centre-verdict.ok")
    assert page.locator("#centre-import-form").count() == 0
    assert Station.objects.count() == 2 and Unit.objects.count() == 4
    audit = Event.objects.get(kind="audit.admin_edit")
    assert audit.actor == admin_user and audit.data["action"] == "imported"
    assert "4" in audit.data["changes"]["units.csv"]  # in the admin's language: 新建 4，...
    assert Event.objects.filter(kind="unit.created", actor=admin_user).count() == 4

    bad = tmp_path / "units.csv"
    bad.write_text("call_sign,kind\r\n示例120-09,als\r\n示例120-10,helicopter\r\n", encoding="utf-8")
    page.set_input_files("input[name=files]", [str(bad)])
    page.click("button[name=check]")
    page.wait_for_selector("#centre-verdict.bad")
    problems = page.inner_text("#centre-problems")
    assert "units.csv" in problems and "3" in problems and "kind" in problems and "helicopter" in problems
    assert page.locator("#centre-import-form").count() == 0
    if shots:
        page.screenshot(path=str(Path(shots) / "import-problems-1366.png"), full_page=True)
    assert not Unit.objects.filter(call_sign="示例120-09").exists()


def test_not_for_other_roles(client, db) -> None:
    dispatcher = User.objects.create_user("alice", role=Role.DISPATCHER, is_staff=True)
    client.force_login(dispatcher)
    assert client.get("/admin/registry/import/").status_code == 403
    client.logout()
    assert client.get("/admin/registry/import/").status_code == 302  # to the admin's sign-in
