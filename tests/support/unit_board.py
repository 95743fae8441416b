"""What the unit board and map tests read off a page: where things are on screen, and whether a
person sees them without scrolling anything."""

SCREENS_DIR = "var/screens"


def box(page, selector: str) -> dict:
    """The element's box on screen (the viewport's coordinates)."""
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not on screen"
    return found


def inside(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


def seen_without_scrolling(page, selector: str, within: str) -> bool:
    """The element is wholly inside the viewport and inside the visible part of its scrolling box
    `within`, as the page is now (nothing scrolled for it)."""
    size = page.viewport_size
    viewport = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
    shown = page.evaluate(
        "(sel) => { const b = document.querySelector(sel).getBoundingClientRect(); "
        "return {x: b.x, y: b.y, width: b.width, height: b.height}; }",
        within,
    )
    element = box(page, selector)
    return inside(element, viewport) and inside(element, shown)


def page_scrolled(page) -> bool:
    """The document itself scrolls (rather than only the boxes inside it)."""
    return page.evaluate(
        "document.scrollingElement.scrollTop > 0 || document.scrollingElement.scrollHeight > innerHeight + 1"
    )
