"""What a browser would send for a form of a server-rendered page, read from its HTML: tests
post a page back as it was shown, with only the fields they change changed."""

from html.parser import HTMLParser


class FormFields(HTMLParser):
    """The successful controls of one <form id=...>: enabled inputs (checkboxes and radios only
    when checked), textareas, and each select's chosen option (else its first), in page order."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.textarea: tuple[str, list[str]] | None = None
        self.select: dict | None = None
        self.option: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self.textarea = (name, [])
        elif tag == "select" and name:
            self.select = {"name": name, "chosen": None, "first": None}
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "text": [], "selected": "selected" in a}

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.textarea[1].append(data)
        if self.option is not None:
            self.option["text"].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self.textarea:
            name, text = self.textarea
            # A newline right after <textarea> belongs to the markup, not the value (HTML spec).
            self.fields.append((name, "".join(text).removeprefix("\n")))
            self.textarea = None
        elif tag == "option" and self.select is not None and self.option is not None:
            value = self.option["value"] if self.option["value"] is not None else "".join(self.option["text"])
            if self.select["first"] is None:
                self.select["first"] = value
            if self.option["selected"]:
                self.select["chosen"] = value
            self.option = None
        elif tag == "select" and self.select is not None:
            chosen = self.select["chosen"] if self.select["chosen"] is not None else self.select["first"]
            if chosen is not None:
                self.fields.append((self.select["name"], chosen))
            self.select = None


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """The form's fields as the browser would post them, one value per name."""
    parser = FormFields(form_id)
    parser.feed(html)
    return dict(parser.fields)
