"""Cells for files people open in a spreadsheet (the audit CSV, the reports' CSV)."""


def inert(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula: names, reasons and object texts are typed
    by people, a failed sign-in's by anyone. Such a cell gets a leading apostrophe."""
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def cell(value: object) -> object:
    """A CSV cell: times in ISO 8601, text a spreadsheet will not run as a formula (names, problem
    texts and crews' notes come from what people typed)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return inert(value) if isinstance(value, str) else value
