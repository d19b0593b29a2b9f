"""``rules.view`` (the findings of the bulk url and token records) against the view's own
``__init__`` and the catalogue, and a view as a report's finding."""

from __future__ import annotations

from dataclasses import asdict

import orjson
import pytest

from credaudit.analysis.rules import RULES, make_finding, view
from credaudit.model import FindingView, Location, Severity


@pytest.mark.parametrize("code", ["CA301", "CA303", "CA304", "CA307", "CA802", "CA811"])
def test_view_fills_what_the_frozen_init_fills(code: str) -> None:
    entry = RULES[code]
    fast = view(code, "a message")
    slow = FindingView(code, entry.severity, entry.title, "a message", entry.fix)
    assert fast == slow and hash(fast) == hash(slow)
    assert asdict(fast) == asdict(slow) and list(vars(fast)) == list(vars(slow))
    assert view(code, "m", Severity.INFO).severity is Severity.INFO  # a stated severity wins
    with pytest.raises(AttributeError):
        fast.message = "changed"  # type: ignore[misc]  # shared between records: frozen


def test_to_dict_is_the_json_orjson_writes_and_located_is_make_finding() -> None:
    built = view("CA303", "expired at 2026-11-22T03:00:00Z (its expiry passed)")
    assert orjson.loads(orjson.dumps(built)) == built.to_dict()
    assert list(built.to_dict()) == ["code", "severity", "title", "message", "remediation"]
    where = Location(url="https://b.s3.amazonaws.com/k?X-Amz-Signature=…", line=7)
    assert built.located("ASIA…VV7A", where) == make_finding(
        "CA303", subject="ASIA…VV7A", message=built.message, location=where
    )
