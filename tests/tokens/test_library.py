"""The library API: ``inspect``, the streaming ``inspect_stream``, and the bulk dump
(``TokenRecord.to_dict``) held to pydantic's dump of the same model."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

from pydantic import TypeAdapter

from credaudit.tokens import Expectations, inspect, inspect_stream, keys_from_jwks
from credaudit.tokens.model import TokenRecord
from tests.tokens.helpers import NOW, T0, claims, hs256, jwks, rs256, unsigned


def _lines() -> list[str]:
    return [
        rs256(),
        f"Authorization: Bearer  {rs256(claims(exp=T0 - 5000))}",
        "",
        unsigned(),
        json.dumps({"access_token": hs256(), "expires_in": 60, "refresh_token": "r"}),
        "eyJhbGciOiJIUzI1NiJ9.e30",
        "Basic dXNlcjpwYXNz",
    ]


def test_to_dict_is_pydantics_dump() -> None:
    adapter = TypeAdapter(TokenRecord)
    keys = keys_from_jwks(json.dumps(jwks(0)), "jwks")
    records = list(
        inspect_stream(_lines(), now=NOW, keys=keys, expect=Expectations(audience=("urn:api",)))
    )
    assert len(records) == 7
    for record in records:
        assert record.to_dict() == adapter.dump_python(record, mode="json")


def test_the_stream_is_lazy_and_in_order() -> None:
    consumed: list[int] = []

    def source() -> Iterator[str]:
        for n in itertools.count(1):
            consumed.append(n)
            yield rs256(claims(sub=f"s{n}"))

    stream = inspect_stream(source(), now=NOW)
    first = [next(stream) for _ in range(3)]
    assert [r.sub for r in first] == ["s1", "s2", "s3"] and [r.line for r in first] == [1, 2, 3]
    assert len(consumed) <= 4  # nothing is read ahead beyond the next line


def test_bytes_lines_and_names() -> None:
    records = list(inspect_stream([rs256().encode(), b"\x00bin"], now=NOW, name="t.txt"))
    assert [r.found_in for r in records] == ["t.txt:1", "t.txt:2"]
    assert [f.code for f in records[1].findings] == ["CA804"]


def test_inspect_takes_any_single_item() -> None:
    assert inspect(f"curl -H 'Authorization: Bearer {rs256()}' https://x", now=NOW).kind == "jwt"
    assert inspect(json.dumps({"token": rs256()}), now=NOW).found_in == "argument token"


def test_a_byte_order_mark_before_the_first_token_is_not_part_of_it() -> None:
    token = rs256()
    (record,) = inspect_stream([b"\xef\xbb\xbf" + token.encode()], now=NOW)
    assert record.kind == "jwt" and record.findings == []
