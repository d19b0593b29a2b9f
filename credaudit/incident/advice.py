"""The fix and the wrong fix for a verdict, from the rule's own page (what `explain` prints),
so the advice is written once."""

from __future__ import annotations

import re

from credaudit.rule_pages import read_page


def advice(code: str) -> tuple[str | None, str | None]:
    page = read_page(code)
    if page is None:
        return None, None
    return _first_paragraph(page, "How to fix"), _first_paragraph(page, "The wrong fix")


def _first_paragraph(page: str, heading: str) -> str | None:
    m = re.search(rf"^## {re.escape(heading)}\s*\n(.*?)(?:\n\s*\n|\Z)", page, re.M | re.S)
    if m is None:
        return None
    text = " ".join(m.group(1).split()).replace("**", "")
    return text or None
