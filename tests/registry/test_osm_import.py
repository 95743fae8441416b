"""`manage.py import_osm`: an OpenStreetMap extract of Baltimore placed at ../shared/data/osm/ (or
under $SHARED_DATA; skipped when absent) gives hospitals that the gazetteer finds and, those with
an emergency department, the hospital recommendation offers; and named places, POIs and address
points the gazetteer finds; boundaries become districts (a small extract written by the test,
since the Baltimore one holds its boundaries only in pieces). Running it again adds nothing; a
dry run writes nothing; every record is one event, keyed by its OSM type and id."""

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from dispatch.locate.reads import places
from dispatch.models import District, Event, Place, PlaceKind, User
from dispatch.recommend.reads import recommend_hospitals
from dispatch.registry.actions import save_hospital
from hospitals.models import Hospital
from tests.support.shared_data import shared_data

pytestmark = pytest.mark.django_db

# East Baltimore, from Johns Hopkins Hospital to Bayview: three hospitals and about 500 places,
# so the test stays fast (the whole extract takes about four times as long).
BOX = "-76.595,39.285,-76.545,39.300"
BAYVIEW_BOX = "-76.556,39.287,-76.540,39.296"  # Bayview and 25 places around it
HOPKINS = "osm:w113103986"  # its grounds; the extract also has it as a point, the same hospital
BAYVIEW = "osm:w85609491"
KENNEDY = "osm:n358248701"  # a hospital on the map, no emergency department: a place only


def run(*args: str, language: str = "en") -> tuple[str, str]:
    """The command's summary (stdout) and progress (stderr), in English unless asked."""
    out, err = StringIO(), StringIO()
    with translation.override(language):
        call_command("import_osm", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def baltimore() -> Path:
    return shared_data("osm", "baltimore.osm.pbf")


def test_hospitals_and_places_are_found_by_the_gazetteer_and_the_recommendation(baltimore):
    out, err = run(str(baltimore), f"--bbox={BOX}")

    # Hospitals with an emergency department are destinations: one record each, the point and
    # the grounds of Johns Hopkins merged into one.
    hospitals = {h.code: h for h in Hospital.objects.all()}
    assert set(hospitals) == {HOPKINS, BAYVIEW}
    assert hospitals[HOPKINS].name == "Johns Hopkins Hospital"
    lon, lat = hospitals[HOPKINS].location.coords  # the grounds' centroid
    assert abs(lon + 76.5924) < 0.001 and abs(lat - 39.2962) < 0.001

    # ... in the gazetteer, as hospitals, by part of their name; so is the one without.
    found = list(places().search("Bayview Medical"))
    assert found[0].name == "Johns Hopkins Bayview Medical Center" and found[0].kind == PlaceKind.HOSPITAL
    assert found[0].source == "osm" and found[0].ref == BAYVIEW
    assert places().search("Kennedy Institute").first().kind == PlaceKind.HOSPITAL
    # ... and offered by the recommendation, the nearest first; never the one without.
    near_kennedy = Point(-76.5933, 39.2990, srid=4326)
    assert [o.name for o in recommend_hospitals(near_kennedy, None)] == [
        "Johns Hopkins Hospital",
        "Johns Hopkins Bayview Medical Center",
    ]
    near_bayview = Point(-76.5500, 39.2920, srid=4326)
    assert recommend_hospitals(near_bayview, "stroke")[0].name == "Johns Hopkins Bayview Medical Center"

    # Places: a park mapped as an area, a neighbourhood, and address points by their number.
    assert places().search("Patterson Park").first().kind == PlaceKind.LANDMARK
    assert places().search("Highlandtown").first().name == "Highlandtown"
    assert Place.objects.filter(kind=PlaceKind.ADDRESS).count() > 100
    address = Place.objects.filter(kind=PlaceKind.ADDRESS).order_by("ref").first()
    assert places().search(address.name).first().name == address.name
    assert address.name[0].isdigit()  # "2801 Hudson Street": the number first, as written there
    # Nothing outside the box.
    assert not Place.objects.filter(point__intersects=Point(-76.6050, 39.2870, srid=4326).buffer(0.004))

    # One event per record, each for the record it saved.
    assert Event.objects.filter(kind="hospital.created").count() == 2
    assert Event.objects.filter(kind="place.saved").count() == Place.objects.count()
    # Progress on stderr, a summary on stdout.
    assert "hospitals, " in err and "saving" in err
    assert "2 new" in out and "hospital mapped twice" in out

    # Again: the same rows, nothing new, no event.
    counts = (Hospital.objects.count(), Place.objects.count(), Event.objects.count())
    out, _err = run(str(baltimore), f"--bbox={BOX}")
    assert (Hospital.objects.count(), Place.objects.count(), Event.objects.count()) == counts
    assert " new" not in out and "unchanged" in out


def test_a_dry_run_checks_and_counts_but_writes_nothing(baltimore):
    out, _err = run(str(baltimore), f"--bbox={BAYVIEW_BOX}", "--dry-run")
    assert "Dry run" in out and "hospitals: 1 new" in out and "places: 26 new" in out
    assert not Hospital.objects.exists() and not Place.objects.exists() and not Event.objects.exists()


def test_every_hospital_is_a_destination_on_request(baltimore):
    """For maps that do not tag emergency departments (most of China's)."""
    out, _err = run(str(baltimore), f"--bbox={BOX}", "--only=hospitals")
    assert "1 without an emergency department" in out
    assert Place.objects.count() == 3  # the hospitals' gazetteer entries alone
    run(str(baltimore), f"--bbox={BOX}", "--only=hospitals", "--all-hospitals")
    assert set(Hospital.objects.values_list("code", flat=True)) == {HOPKINS, BAYVIEW, KENNEDY}
    assert Place.objects.filter(ref=KENNEDY).count() == 1


def test_what_an_administrator_set_survives_a_new_import(baltimore):
    """The map knows names, places and emergency departments; not a hospital's specialty centres,
    its grade or its FHIR endpoint."""
    run(str(baltimore), f"--bbox={BOX}", "--only=hospitals")
    hopkins = Hospital.objects.get(code=HOPKINS)
    save_hospital(
        HOPKINS,
        name=hopkins.name,
        location=hopkins.location,
        level="三级甲等",
        capabilities=["stroke", "pci"],
        fhir_endpoint="https://fhir.example.org/r4",
        has_board=False,
    )
    run(str(baltimore), f"--bbox={BOX}", "--only=hospitals")
    hopkins.refresh_from_db()
    assert (hopkins.level, hopkins.fhir_endpoint, hopkins.has_board) == (
        "三级甲等",
        "https://fhir.example.org/r4",
        False,
    )
    assert sorted(hopkins.capabilities) == ["pci", "stroke"]


def test_a_refused_record_is_reported_and_the_rest_imported(baltimore):
    """A hospital of the same name already on file under another code (a centre's own file)."""
    save_hospital("JHH", name="Johns Hopkins Hospital", location=Point(-76.59, 39.29, srid=4326))
    out, _err = run(str(baltimore), f"--bbox={BOX}", "--only=hospitals")
    assert f"refused {HOPKINS}:" in out and "JHH" in out  # the refusal names the record and why
    assert "hospitals: 1 new, 1 refused" in out
    assert set(Hospital.objects.values_list("code", flat=True)) == {"JHH", BAYVIEW}


def test_bad_input_ends_with_a_clear_message_and_writes_nothing(tmp_path, baltimore):
    with pytest.raises(CommandError, match="west,south,east,north"):
        run(str(baltimore), "--bbox", "1,2,3")
    with pytest.raises(CommandError):
        run(str(baltimore), "--bbox=-76.5,39.3,-76.6,39.2")  # west > east
    with pytest.raises(CommandError):
        run(str(tmp_path / "missing.osm.pbf"))
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"not a protocol buffer at all" * 10)
    with pytest.raises(CommandError):
        run(str(junk))
    assert not Hospital.objects.exists() and not Place.objects.exists() and not District.objects.exists()


# ---------------------------------------------------------------------------------------------
# districts, from a small extract of the test's own


def write_districts(path: Path) -> Path:
    """Two districts: 东区 a relation of two outer ways with a hole (an inner way), 西区 a closed way;
    a third boundary whose ways are missing (as at an extract's edge); a place in each district
    and one in the hole."""
    import osmium
    from osmium.osm.mutable import Node, Relation, Way

    corners = {
        # 东区: the square 1..2 x 0..1, in two halves of its ring; the hole 1.4..1.6 x 0.4..0.6
        1: (1.0, 0.0), 2: (2.0, 0.0), 3: (2.0, 1.0), 4: (1.0, 1.0),
        5: (1.4, 0.4), 6: (1.6, 0.4), 7: (1.6, 0.6), 8: (1.4, 0.6),
        # 西区: the square 0..1 x 0..1 (sharing 东区's west edge)
        11: (0.0, 0.0), 14: (0.0, 1.0),
    }  # fmt: skip
    with osmium.SimpleWriter(str(path)) as writer:
        for ident, (lon, lat) in sorted(corners.items()):
            writer.add_node(Node(id=ident, location=(lon, lat), tags={}))
        writer.add_node(
            Node(id=100, location=(1.2, 0.2), tags={"name": "东区医院门口", "amenity": "pharmacy"})
        )
        writer.add_node(Node(id=101, location=(1.5, 0.5), tags={"name": "湖心亭", "tourism": "attraction"}))
        writer.add_node(
            Node(id=102, location=(0.5, 0.5), tags={"addr:street": "中山路", "addr:housenumber": "12"})
        )
        writer.add_way(Way(id=20, nodes=[1, 2, 3], tags={}))
        writer.add_way(Way(id=21, nodes=[3, 4, 1], tags={}))
        writer.add_way(Way(id=22, nodes=[5, 6, 7, 8, 5], tags={}))
        writer.add_way(
            Way(
                id=23,
                nodes=[11, 1, 4, 14, 11],
                tags={"boundary": "administrative", "admin_level": "6", "name": "西区", "name:en": "West"},
            )
        )
        east = {"type": "boundary", "boundary": "administrative", "admin_level": "6", "name": "东区"}
        writer.add_relation(
            Relation(id=30, members=[("w", 20, "outer"), ("w", 21, "outer"), ("w", 22, "inner")], tags=east)
        )
        cut = {"type": "boundary", "boundary": "administrative", "admin_level": "6", "name": "北区"}
        writer.add_relation(Relation(id=31, members=[("w", 20, "outer"), ("w", 99, "outer")], tags=cut))
        town = {"type": "boundary", "boundary": "administrative", "admin_level": "8", "name": "某镇"}
        writer.add_relation(Relation(id=32, members=[("w", 20, "outer"), ("w", 21, "outer")], tags=town))
    return path


def test_boundaries_become_districts_and_name_the_places_in_them(tmp_path):
    pbf = write_districts(tmp_path / "districts.osm.pbf")
    out, _err = run(str(pbf))
    districts = {d.code: d for d in District.objects.all()}
    assert set(districts) == {"osm:r30", "osm:w23"}  # level 6 only; 北区 is cut: skipped, said so
    east, west = districts["osm:r30"], districts["osm:w23"]
    assert (east.name, west.name, west.name_en) == ("东区", "西区", "West")
    assert abs(east.polygon.area - (1.0 - 0.04)) < 1e-9  # the hole is cut out
    assert "1 boundary cut by the extract's edge" in out
    assert Event.objects.filter(kind="district.saved").count() == 2

    assert Place.objects.get(name="东区医院门口").district == "东区"
    assert Place.objects.get(name="湖心亭").district == ""  # in the hole: in no district
    address = Place.objects.get(kind=PlaceKind.ADDRESS)
    assert (address.name, address.district) == ("中山路12号", "西区")
    assert places().search("zsl12").first() == address  # by its initials, as dispatchers type
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(User.objects.create_superuser("root", password="pw-root-120"))
    listed = admin.get("/admin/dispatch/district/").content.decode()  # listed, read-only
    assert "东区" in listed and "西区" in listed
    assert admin.get(f"/admin/dispatch/district/{east.pk}/change/").status_code == 200

    # A second level on request; again, nothing twice.
    run(str(pbf), "--admin-level", "6", "--admin-level", "8")
    assert District.objects.count() == 3 and District.objects.get(code="osm:r32").name == "某镇"
    run(str(pbf), "--admin-level", "6", "--admin-level", "8")
    assert District.objects.count() == 3 and Place.objects.count() == 3
