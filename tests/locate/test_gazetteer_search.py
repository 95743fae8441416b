"""Gazetteer search finds what dispatchers type: Chinese, pinyin, initials, English, typos."""

import pytest
from django.contrib.gis.geos import Point

from dispatch.locate.gazetteer import search_keys
from dispatch.locate.reads import places
from dispatch.models import Place, PlaceKind

NORTH = Point(119.60, 24.95, srid=4326)
SOUTH = Point(119.60, 24.85, srid=4326)


def add_place(name: str, point: Point, kind: str = PlaceKind.COMPOUND, name_en: str = "") -> Place:
    pinyin, initials = search_keys(name)
    return Place.objects.create(
        name=name, name_en=name_en, kind=kind, point=point, pinyin=pinyin, initials=initials, source="test"
    )


@pytest.fixture
def gazetteer(db) -> dict[str, Place]:
    """A few places of one town; 人民医院 twice, north and south."""
    specs = [
        ("碧水苑", Point(119.600, 24.900, srid=4326), PlaceKind.COMPOUND, "Bishui Garden"),
        ("碧水苑二期", Point(119.601, 24.901, srid=4326), PlaceKind.COMPOUND, ""),
        ("碧水湾花园", Point(119.620, 24.920, srid=4326), PlaceKind.COMPOUND, ""),
        ("金色阳光小区", Point(119.580, 24.880, srid=4326), PlaceKind.COMPOUND, ""),
        ("市第一人民医院", Point(119.610, 24.930, srid=4326), PlaceKind.HOSPITAL, "First People's Hospital"),
        ("人民医院", NORTH, PlaceKind.HOSPITAL, "People's Hospital (North)"),
        ("人民医院", SOUTH, PlaceKind.HOSPITAL, "People's Hospital (South)"),
        ("福民路与兴业街交叉口", Point(119.590, 24.890, srid=4326), PlaceKind.INTERSECTION, ""),
        ("万达广场A座", Point(119.605, 24.905, srid=4326), PlaceKind.LANDMARK, "Wanda Plaza Tower A"),
    ]
    created = [add_place(name, point, kind, name_en) for name, point, kind, name_en in specs]
    by_name = {p.name: p for p in created}
    by_name["人民医院 north"], by_name["人民医院 south"] = created[5], created[6]
    return by_name


def names(typed: str, **kwargs) -> list[str]:
    return [p.name for p in places().search(typed, **kwargs)]


def first(typed: str, **kwargs) -> Place:
    found = list(places().search(typed, **kwargs))
    assert found, f"nothing found for {typed!r}"
    return found[0]


def test_chinese_prefix_finds_names_that_start_with_it(gazetteer):
    found = names("碧水")
    assert found[0] == "碧水苑"  # the shortest first when no point is given
    assert set(found) == {"碧水苑", "碧水苑二期", "碧水湾花园"}
    assert first("碧水").match == "name"


def test_exact_name_comes_before_longer_names_even_when_they_are_nearer(gazetteer):
    near_the_second_phase = Point(119.601, 24.901, srid=4326)
    assert names("碧水苑", near=near_the_second_phase)[:2] == ["碧水苑", "碧水苑二期"]


def test_chinese_substring_finds_the_middle_of_a_name(gazetteer):
    assert names("阳光小区") == ["金色阳光小区"]
    assert names("兴业街") == ["福民路与兴业街交叉口"]
    assert names("水湾") == ["碧水湾花园"]  # two characters: found through their pinyin index
    assert first("阳光小区").match == "name"


def test_full_pinyin_finds_the_place(gazetteer):
    found = first("bishuiyuan")
    assert (found.name, found.match) == ("碧水苑", "pinyin")
    assert set(names("bishui")) >= {"碧水苑", "碧水苑二期", "碧水湾花园"}
    assert first("bishui").match == "pinyin"  # though "Bishui Garden" matches too
    assert names("yangguangxiaoqu") == ["金色阳光小区"]  # the middle of a name


def test_pinyin_with_spaces_capitals_and_full_width_letters(gazetteer):
    assert first("bi shui yuan").name == "碧水苑"
    assert first("Bi Shui Yuan").name == "碧水苑"
    assert first("ｂｉｓｈｕｉｙｕａｎ").name == "碧水苑"  # full-width, as some input methods type
    assert first(" 碧水　苑 ").name == "碧水苑"  # ideographic space inside a Chinese name


def test_initials_find_the_place(gazetteer):
    found = first("bsy")
    assert (found.name, found.match) == ("碧水苑", "initials")
    assert first("bswhy").name == "碧水湾花园"
    assert names("bsyeq") == ["碧水苑二期"]


def test_english_name_finds_the_place(gazetteer):
    found = first("first people")
    assert (found.name, found.match) == ("市第一人民医院", "name")
    assert first("Bishui Garden").name == "碧水苑"


def test_latin_letters_inside_a_chinese_name(gazetteer):
    assert first("万达广场a座").name == "万达广场A座"


def test_a_typo_in_pinyin_still_finds_the_place(gazetteer):
    found = first("bishuiyaun")
    assert (found.name, found.match) == ("碧水苑", "fuzzy")


def test_a_wrong_character_of_the_same_sound_still_finds_the_place(gazetteer):
    found = first("碧水园")  # 园 for 苑: the input method offered the wrong yuan
    assert (found.name, found.match) == ("碧水苑", "fuzzy")


def test_a_wrong_character_of_another_sound_is_found_as_similar(gazetteer):
    assert "金色阳光小区" in names("金色阳关小区")  # 关 guan for 光 guang


def test_nearer_comes_first_among_equal_matches(gazetteer):
    north, south = gazetteer["人民医院 north"], gazetteer["人民医院 south"]
    from_south = list(places().search("人民医院", near=Point(119.60, 24.86, srid=4326)))
    assert [p.pk for p in from_south[:2]] == [south.pk, north.pk]
    assert from_south[0].distance_m == pytest.approx(1112, rel=0.005)  # 0.01 degree of latitude
    from_north = list(places().search("rmyy", near=Point(119.60, 24.94, srid=4326)))
    assert [p.pk for p in from_north[:2]] == [north.pk, south.pk]
    assert from_south[2].name == "市第一人民医院"  # a longer name: after both exact matches


def test_without_a_point_there_is_no_distance(gazetteer):
    assert not hasattr(first("rmyy"), "distance_m")


@pytest.mark.parametrize("typed", ["", "   ", "zzzzqqq", "!!!", "%", "_", "医疗器械"])
def test_nothing_matching_gives_no_results(gazetteer, typed):
    assert names(typed) == []


def test_limit(gazetteer):
    assert len(names("b", limit=2)) == 2


def test_a_search_is_one_query(gazetteer, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(places().search("bishuiyaun", near=NORTH))
    with django_assert_num_queries(1):
        list(places().search("碧水"))
