"""The audit page's filters: by user, by local time, by object (kind and text) and by kind of
event, newest first, 50 a page; the CSV holds exactly the rows the filter matches. Whatever is
pasted into a field (Chinese, quotes, %, markup, a page of text) gives rows, none, or a clear
400 naming the filter: never a 500, never markup run."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from tests.support.audit_trail import audit_event

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def edit(actor, model: str, object_id: int, text: str, at: datetime):
    return audit_event(
        "audit.admin_edit",
        actor=actor,
        at=at,
        action="changed",
        model=model,
        object_id=str(object_id),
        object=text,
        changes={"name": ["旧", "新"]},
        username=actor.username,
    )


@pytest.fixture
def trail(world):
    """Sign-ins and edits over three days of March (centre time), by erin and bob."""
    audit_event("audit.signed_in", actor=world.erin, at=local(2026, 3, 1, 8, 0), ip="10.0.0.1")
    edit(world.erin, "hospitals.hospital", world.city.pk, "市第一人民医院", local(2026, 3, 1, 8, 5))
    audit_event(
        "audit.sign_in_failed", at=local(2026, 3, 2, 3, 0), username="bob", user=world.bob.pk, ip="10.0.0.9"
    )
    edit(world.bob, "dispatch.place", 7, '50% "off" 商场', local(2026, 3, 2, 10, 0))
    edit(world.erin, "dispatch.user", world.alice.pk, "alice", local(2026, 3, 3, 23, 59))
    audit_event("audit.signed_out", actor=world.erin, at=local(2026, 3, 3, 23, 59, 30), ip="10.0.0.1")


@pytest.fixture
def admin(world) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.erin)
    return client


def shown(client: Client, query: str) -> list[str]:
    """The rows the page shows for a query, each as its sequence number, newest first."""
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 200, response.content.decode()[-1500:]
    html = response.content.decode()
    return [part.split('"', 1)[0] for part in html.split('data-seq="')[1:]]


def csv_rows(client: Client, query: str) -> list[list[str]]:
    response = client.get(f"/audit/export.csv?{query}")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))[1:]


def seqs(*events) -> list[str]:
    return [str(e) for e in events]


def objects(client: Client, query: str) -> list[str]:
    return [row[7] for row in csv_rows(client, query)]


def test_everything_newest_first(admin, trail):
    rows = shown(admin, "")
    assert len(rows) == 6 and rows == sorted(rows, key=int, reverse=True)
    assert "audit-empty" not in admin.get("/audit/").content.decode()


def test_by_user_name_any_case_including_failed_sign_ins(admin, trail, world):
    assert len(shown(admin, "user=BOB")) == 2  # the failed sign-in (no actor) and bob's edit
    assert objects(admin, "user=bob") == ['50% "off" 商场', ""]
    assert len(shown(admin, "user=erin")) == 4
    assert shown(admin, "user=er") == []  # a user name, not a part of one


def test_by_local_time(admin, trail):
    assert objects(admin, "from=2026-03-02T00:00&to=2026-03-03T12:00") == ['50% "off" 商场', ""]
    # A day alone: from its start, or to its end.
    assert len(shown(admin, "from=2026-03-03&to=2026-03-03")) == 2
    assert len(shown(admin, "to=2026-03-01T08:05")) == 2  # to the minute, that minute included
    assert len(shown(admin, "from=2026-03-01T08:01")) == 5


def test_by_object_kind_and_text(admin, trail):
    assert objects(admin, "model=hospitals.hospital") == ["市第一人民医院"]
    assert objects(admin, "object=第一人民") == ["市第一人民医院"]
    assert objects(admin, "object=ALICE") == ["alice"]
    assert objects(admin, "model=dispatch.user&object=医院") == []
    # % and quotes are characters to find, not patterns.
    assert objects(admin, "object=50%25") == ['50% "off" 商场']
    assert objects(admin, "object=%25") == ['50% "off" 商场']
    assert objects(admin, "object=%22off%22") == ['50% "off" 商场']
    assert objects(admin, "object=_") == []


def test_by_kind_of_event(admin, trail):
    sign_ins = csv_rows(admin, "kind=sign_in")
    assert [row[1] for row in sign_ins] == ["signed out", "sign-in failed", "signed in"]
    assert len(shown(admin, "kind=admin")) == 3 and len(shown(admin, "kind=all")) == 6
    assert shown(admin, "kind=admin&user=erin&from=2026-03-03") == shown(admin, "object=alice")


def test_no_match_says_so(admin, trail):
    html = admin.get("/audit/?user=nobody").content.decode()
    assert 'id="audit-empty"' in html and "No audit events match these filters." in html
    assert csv_rows(admin, "user=nobody") == []


def test_an_empty_trail_says_so(admin, world):
    html = admin.get("/audit/").content.decode()
    assert "No audit events yet." in html and 'id="audit-csv"' not in html


def test_fifty_a_page_and_the_csv_has_them_all(admin, world):
    for n in range(120):
        edit(world.erin, "dispatch.place", n, f"地点{n}", local(2026, 3, 1, 9, 0))
    first, third = shown(admin, "kind=admin"), shown(admin, "kind=admin&page=3")
    assert len(first) == 50 and len(third) == 20
    assert min(int(s) for s in first) > max(int(s) for s in third)
    html = admin.get("/audit/?kind=admin&page=2").content.decode()
    assert "page=1" in html and "page=3" in html and "kind=admin" in html
    assert len(csv_rows(admin, "kind=admin")) == 120
    for page in ("abc", "-1", "99999", "1" * 300):  # a bad page number shows a page, never an error
        assert admin.get(f"/audit/?page={page}").status_code == 200


def test_the_csv_matches_the_page(admin, trail):
    for query in ("", "user=erin", "kind=sign_in", "object=医院", "from=2026-03-02&kind=admin"):
        rows = csv_rows(admin, query)
        assert len(rows) == len(shown(admin, query)), query
    (row,) = csv_rows(admin, "model=hospitals.hospital")
    assert row[0] == "2026-03-01 08:05:00"  # centre time
    assert row[1:3] == ["admin edit", "erin"] and row[4:6] == ["Change", "Hospital"]
    assert row[8] == "name: 旧 → 新"


def test_a_typed_formula_is_not_run_by_a_spreadsheet(admin, world):
    audit_event("audit.sign_in_failed", username='=HYPERLINK("http://evil","x")', ip="10.0.0.66")
    (row,) = csv_rows(admin, "")
    assert row[2] == '\'=HYPERLINK("http://evil","x")'


LONG = "长" * 151


@pytest.mark.parametrize(
    "query",
    [
        "user=%E5%BC%A0%E4%B8%89",  # 张三
        "user=o%27brien%22%3B--",
        "user=%25",
        "object=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "object=%5C",
        "object=%27%27%27",
        "object=%E2%80%AE%F0%9F%9A%91",
        "kind=all&model=",
    ],
)
def test_odd_characters_give_rows_or_none_never_an_error(admin, trail, query):
    response = admin.get(f"/audit/?{query}")
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.content.decode()
    assert admin.get(f"/audit/export.csv?{query}").status_code == 200


@pytest.mark.parametrize(
    "query, says",
    [
        (f"user={LONG}", "User is too long: at most 150 characters, not 151."),
        (f"object={LONG}", "Object is too long"),
        ("from=2026-13-45", "From must be a date and time such as"),
        ("from=yesterday", "From must be a date and time"),
        ("to=2026-03-01T25:00", "To must be a date and time"),
        ("to=9999-01-01T00:00", "in the years 2000 to 2099"),
        ("from=%E4%B8%89%E6%9C%88", "From must be a date and time"),  # 三月
        ("from=2026-03-02&to=2026-03-01", "The time range must end after it begins."),
        ("model=nosuch.model", "Choose the kind of object from the list."),
        ("model=%27%3B+drop", "Choose the kind of object from the list."),
        ("kind=%25", "Choose the kind of event from the list."),
    ],
)
def test_a_bad_filter_is_a_clear_400(admin, trail, query, says):
    response = admin.get(f"/audit/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="audit-error"' in html and says in html
    assert 'id="audit-filter"' in html  # the form is there to correct it
    assert admin.get(f"/audit/export.csv?{query}").status_code == 400


def test_the_page_speaks_chinese(world, trail):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.erin)
    html = client.get("/audit/").content.decode()
    assert "审计记录" in html and "管理后台操作" in html and "登录" in html
    refused = client.get("/audit/?from=x").content.decode()
    assert "“起”必须是日期和时间" in refused
