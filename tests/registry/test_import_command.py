"""manage.py import_centre and export_centre: the summary on stdout, a progress bar on stderr for
long files, a non-zero exit with every problem listed, and a zip read like a folder."""

import io
import shutil
import zipfile

import pytest
from django.core.management import CommandError, call_command

from dispatch.registry.importer import import_files
from fleet.models import Station
from tests.registry.centre_files import EXAMPLES, example_files, row_counts

pytestmark = pytest.mark.usefixtures("in_english")


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_dry_run_then_import_then_again(tmp_path) -> None:
    out, _ = run("import_centre", str(EXAMPLES), "--dry-run")
    assert "Reading 7 files" in out
    assert "units.csv: 4 created, 0 updated, 0 unchanged" in out
    assert "Dry run: 19 created, 0 updated, 0 unchanged would be the result; nothing was written." in out
    assert not Station.objects.exists()
    out, _ = run("import_centre", str(EXAMPLES))
    assert "Imported: 19 created, 0 updated, 0 unchanged." in out
    out, _ = run("import_centre", str(EXAMPLES / "stations.csv"), str(EXAMPLES / "units.csv"))
    assert "Imported: 0 created, 0 updated, 6 unchanged." in out


@pytest.mark.django_db
def test_progress_bar_on_stderr_for_long_files(tmp_path) -> None:
    lines = ["ref,name,lon,lat,district"] + [
        f"A-{k:04d},福民路{k}号,{119.6 + k * 1e-5:.7f},24.9,示例区" for k in range(1, 451)
    ]
    (tmp_path / "addresses.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    out, err = run("import_centre", str(tmp_path))
    assert "addresses.csv: 450 created" in out
    assert "[##############################] 100% 450/450" in err
    assert err.count("\r") >= 50  # redrawn in place as it goes


@pytest.mark.django_db
def test_problems_fail_the_command_and_write_nothing(tmp_path) -> None:
    for path in EXAMPLES.iterdir():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "units.csv").write_text("call_sign,kind,station\r\nX-1,als,NOPE\r\nX-2,tank,EX01\r\n")
    before = row_counts()
    with pytest.raises(CommandError, match="Problems: 2") as failed:
        run("import_centre", str(tmp_path))
    assert row_counts() == before
    del failed


@pytest.mark.django_db
def test_a_zip_is_read_like_a_folder() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in example_files():
            archive.writestr(f"centre/{name}", data)
        archive.writestr("__MACOSX/centre/._units.csv", b"\x00\x05")
    report = import_files([("centre.zip", buffer.getvalue())])
    assert report.ok and report.summary() == "19 created, 0 updated, 0 unchanged"


@pytest.mark.django_db
def test_export_command_writes_what_import_reads(tmp_path) -> None:
    run("import_centre", str(EXAMPLES))
    out, _ = run("export_centre", str(tmp_path / "out"))
    assert "units.csv: 4 rows" in out and "districts.geojson: 1 rows" in out
    out, _ = run("import_centre", str(tmp_path / "out"), "--dry-run")
    assert "0 created, 0 updated, 19 unchanged" in out  # the addresses come back among the places
