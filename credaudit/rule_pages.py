"""Find and read a rule's page (``docs/rules/CAxxx.md``), the text ``credaudit explain`` prints.

The pages are written once, in ``docs/rules/``, and must reach two kinds of install: a wheel,
where hatchling force-includes them as the package data ``credaudit/_rule_pages/``, and an
editable or source checkout, where no copy exists and the repository's own directory is the
only one.  Looking in the package data first means an installed credaudit never depends on a
checkout lying around; the fallback means developers see their edits without rebuilding.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGE_DATA_DIR = "_rule_pages"
SOURCE_DIR = Path(__file__).resolve().parents[1] / "docs" / "rules"

# A finding code: two letters and three digits (CA101).  Anything else is not looked up, so a
# user-supplied "code" can never name a path outside the pages directory.
_CODE = re.compile(r"^[A-Z]{2}\d{3}$")


def normalize_code(code: str) -> str | None:
    """The code in canonical form (``ca201`` -> ``CA201``), or None if it is not code-shaped."""
    candidate = code.strip().upper()
    return candidate if _CODE.match(candidate) else None


def pages_dir() -> Traversable | None:
    """Where the pages are: the installed package data, else the checkout's docs/rules."""
    try:
        packaged = resources.files("credaudit").joinpath(PACKAGE_DATA_DIR)
        if packaged.is_dir():
            return packaged
    except (ModuleNotFoundError, OSError):
        pass
    if SOURCE_DIR.is_dir():
        return SOURCE_DIR
    return None


def read_page(code: str) -> str | None:
    """The page of ``code`` as Markdown, or None when the code or its page does not exist."""
    canonical = normalize_code(code)
    directory = pages_dir()
    if canonical is None or directory is None:
        return None
    page = directory.joinpath(f"{canonical}.md")
    if not page.is_file():
        return None
    try:
        return page.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def page_codes() -> list[str]:
    """Every code that has a page, sorted (the index README.md is not a page)."""
    directory = pages_dir()
    if directory is None:
        return []
    codes = (
        entry.name.removesuffix(".md")
        for entry in directory.iterdir()
        if entry.name.endswith(".md") and entry.is_file()
    )
    return sorted(code for code in codes if normalize_code(code) == code)
