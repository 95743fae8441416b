"""GCJ-02 and BD-09 to WGS-84, checked against published point pairs (the reference values of
the widely used coordtransform implementations, Tiananmen area) and by round trips."""

import pytest

from dispatch.locate.chinacoords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    wgs84_to_gcj02,
)

POINT = (116.404, 39.915)


def close(a: tuple[float, float], b: tuple[float, float], tolerance: float) -> bool:
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def test_published_forward_pairs():
    assert close(wgs84_to_gcj02(*POINT), (116.41024449916938, 39.91640428150164), 1e-12)
    assert close(gcj02_to_bd09(*POINT), (116.41036949371029, 39.92133699351021), 1e-12)
    assert close(bd09_to_gcj02(*POINT), (116.39762729119315, 39.90865673957631), 1e-12)


def test_inverse_is_within_centimetres_of_the_published_one_step_inverse():
    # The published gcj02towgs84 is a one-step approximation; ours iterates to the exact inverse.
    assert close(gcj02_to_wgs84(*POINT), (116.39775550083061, 39.91359571849836), 1e-6)


@pytest.mark.parametrize("point", [(116.404, 39.915), (121.4737, 31.2304), (119.6012, 24.9512), (87.6, 43.8)])
def test_round_trips_to_a_millimetre(point):
    assert close(gcj02_to_wgs84(*wgs84_to_gcj02(*point)), point, 1e-8)
    assert close(bd09_to_wgs84(*gcj02_to_bd09(*wgs84_to_gcj02(*point))), point, 1e-6)


def test_offset_is_hundreds_of_metres_in_china_and_zero_outside():
    lon, lat = wgs84_to_gcj02(*POINT)
    assert 0.004 < abs(lon - POINT[0]) < 0.01  # about 500 m at Beijing's latitude
    assert out_of_china(2.35, 48.85) and wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
