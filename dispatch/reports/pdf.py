"""The month report as a PDF: WeasyPrint lays out the month page's own HTML (templates/
reports_month.html, rendered with its figures by dispatch.reports.views.month_pdf) with the
page's print styles, so the paper and the PDF are one document.

WeasyPrint runs no script: the charts are the server's SVG (dispatch.reports.charts). It fetches
nothing from the network: only the site's own static files are read (from disk, through the
static file finders); any other address in the page is refused. Chinese needs a CJK font on
the server (Debian fonts-noto-cjk, installed by ops/local/bootstrap.sh), named first by the
stylesheet below so the text never falls back to boxes.
"""

import mimetypes
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders

# Added to the page's own styles (as a user stylesheet, hence !important where the page's own
# print rules say otherwise): the paper, and a CJK font that fontconfig finds on Debian.
PDF_CSS = """
@page { size: A4; margin: 14mm 12mm 16mm; @bottom-right { content: counter(page) " / " counter(pages);
  font-size: 8pt; color: #5f6b7a; } }
body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Micro Hei", sans-serif !important; }
.print-chart { width: 100%; height: auto; }
/* A long section (31 days, every unit) flows on to the next page instead of leaving this one
   empty; its chart and each row stay whole. */
.month-report section { break-inside: auto !important; }
.print-figure, .report-table tr { break-inside: avoid; }
"""
# The base URL the page's relative addresses resolve against (it is never contacted).
BASE_URL = "https://report.invalid/"


class RefusedFetch(ValueError):
    """The page asked for something that is not one of the site's static files."""


def static_file(url: str) -> tuple[bytes, str]:
    """A static file of the site by its address under BASE_URL: its bytes and media type."""
    parts = urlsplit(url)
    prefix = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}"
    if parts.netloc != urlsplit(BASE_URL).netloc or not parts.path.startswith(prefix):
        raise RefusedFetch(f"not fetched for the PDF: {url}")
    found = finders.find(unquote(parts.path[len(prefix) :]))
    if not found or isinstance(found, list):
        raise RefusedFetch(f"no such static file: {url}")
    with open(found, "rb") as file:
        return file.read(), mimetypes.guess_type(found)[0] or "application/octet-stream"


def month_pdf_bytes(html: str) -> bytes:
    """The PDF of a rendered month report page."""
    # WeasyPrint loads pango through cffi when imported: only the PDF route pays for it.
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):
        """data: addresses and the site's static files from disk; nothing from a network."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            body, media_type = static_file(url)
            return URLFetcherResponse(url, body, {"Content-Type": media_type})

    fetcher = StaticOnly(allowed_protocols={"data", "https"})
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[CSS(string=PDF_CSS, url_fetcher=fetcher)])
