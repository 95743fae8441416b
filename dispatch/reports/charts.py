"""Charts drawn on the server as SVG, for the printed month report and its PDF: WeasyPrint runs
no script, so the page's own charts (static/js/reports.js) cannot be there. Every text is
escaped: district names come from the centre's files."""

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from dispatch.reports.intervals import Target

DAYS_W, DAYS_H = 720, 170
MAP_W, MAP_H = 720, 380


def minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def days_svg(days: list[dict], goals: Sequence[Target]) -> SafeString:
    """Response time's 90th percentile per day as bars, over the first target's line."""
    values = [d["p90_s"] for d in days if d["p90_s"] is not None]
    if not values:
        return mark_safe("")
    target = goals[0].within_s if goals else None
    top = max([*values, target or 0]) * 1.1
    left, bottom, width = 40, DAYS_H - 22, DAYS_W - 50
    step = width / len(days)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="print-chart" viewBox="0 0 {DAYS_W} {DAYS_H}" '
        f'width="{DAYS_W}" height="{DAYS_H}" role="img" aria-label="{escape(_("Response time by day"))}">'
    ]
    for n, day in enumerate(days):
        x = left + n * step
        if day["p90_s"] is not None:
            h = (bottom - 8) * day["p90_s"] / top
            over = target is not None and day["p90_s"] > target
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{bottom - h:.1f}" width="{max(step - 2, 1):.1f}" height="{h:.1f}" '
                f'fill="{"#c8102e" if over else "#8aa4d6"}"><title>{escape(day["bucket"])}</title></rect>'
            )
        if n % max(1, len(days) // 10) == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{DAYS_H - 6}" font-size="10" text-anchor="middle" '
                f'fill="#5f6b7a">{escape(str(day["bucket"])[5:])}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{left + width}" y1="{bottom}" y2="{bottom}" stroke="#9aa3ad"/>')
    parts.append(f'<text x="0" y="16" font-size="10" fill="#5f6b7a">{minutes(top)}</text>')
    if target is not None:
        y = bottom - (bottom - 8) * target / top
        label = f"{_('target')} {minutes(target)}"
        parts.append(
            f'<line x1="{left}" x2="{left + width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c8102e" '
            'stroke-dasharray="5 4"/>'
            f'<text x="{left + width}" y="{y - 4:.1f}" font-size="10" text-anchor="end" fill="#c8102e">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def shade(district: dict, target_s: float | None) -> str:
    """The page's colours (static/js/reports.js areaClass): 90% within, median within, over."""
    if not target_s or district["p90_s"] is None:
        return "#9aa3ad"
    if district["p90_s"] <= target_s:
        return "#2a9d4b"
    return "#f0a020" if district["median_s"] <= target_s else "#c8102e"


def districts_svg(areas: dict) -> SafeString:
    """The districts by name over the road map's main roads, each with its incidents and the
    share within the first target (figures.districts)."""
    if not areas["districts"]:
        return mark_safe("")
    west, south, east, north = areas["district_box"]
    kx = math.cos(math.radians((south + north) / 2))
    scale = min((MAP_W - 8) / ((east - west) * kx or 1), (MAP_H - 8) / ((north - south) or 1))
    left = 4 + (MAP_W - 8 - (east - west) * kx * scale) / 2
    top = 4 + (MAP_H - 8 - (north - south) * scale) / 2

    def xy(point: Sequence[float]) -> str:
        return f"{left + (point[0] - west) * kx * scale:.1f},{top + (north - point[1]) * scale:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="print-chart" viewBox="0 0 {MAP_W} {MAP_H}" '
        f'width="{MAP_W}" height="{MAP_H}" role="img" aria-label="{escape(_("By area"))}">'
    ]
    most = max([1, *(d["incidents"] for d in areas["districts"])])
    for d in areas["districts"]:
        path = "".join(
            "M" + "L".join(xy(p) for p in ring) + "Z" for polygon in d["outline"] for ring in polygon
        )
        opacity = 0.25 + 0.45 * d["incidents"] / most if d["incidents"] else 0.08
        parts.append(
            f'<path d="{path}" fill="{shade(d, areas["target_s"])}" fill-opacity="{opacity:.2f}" '
            'stroke="#fff" stroke-width="1.5"/>'
        )
    for road in areas["roads"]:
        path = "".join("M" + "L".join(xy(p) for p in line) for line in road["lines"])
        parts.append(
            f'<path d="{path}" fill="none" stroke="#8b939c" stroke-width="0.8" stroke-opacity="0.7"/>'
        )
    for d in areas["districts"]:
        x, y = (float(v) for v in xy(d["label_at"]).split(","))
        target = d["target"]
        share = f" · {1000 * target['within'] // target['of'] / 10:.1f}%" if target and target["of"] else ""
        parts.append(
            f'<text x="{x:.1f}" y="{y - 2:.1f}" font-size="14" font-weight="700" text-anchor="middle" '
            f'fill="#1b1f24">{escape(d["name"])}</text>'
            f'<text x="{x:.1f}" y="{y + 13:.1f}" font-size="11" text-anchor="middle" fill="#1b1f24">'
            f"{d['incidents']}{escape(share)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
