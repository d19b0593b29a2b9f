"""The per-endpoint and per-signing-key caches never keep a hostile line's long values.

A line may be 64 KiB; 1,024 cached hosts or credentials of that size would be tens of MiB a
cache.  Values longer than ``CACHED_UP_TO`` are worked out uncached, with the same verdict."""

from __future__ import annotations

from datetime import UTC, datetime

from credaudit.presign import inspect
from credaudit.presign.analyze import _key_facts
from credaudit.presign.parse import CACHED_UP_TO, _endpoint, _masked_item, _scope

NOW = datetime(2026, 11, 22, 4, tzinfo=UTC)
CACHES = (_endpoint, _masked_item, _scope, _key_facts)


def _url(host: str, akid: str) -> str:
    return (
        f"https://{host}/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={akid}%2F20261122%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20261122T030000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        "&X-Amz-Security-Token=tok&X-Amz-Signature=" + "0" * 64
    )


def test_long_hosts_and_keys_are_judged_but_not_cached() -> None:
    for cache in CACHES:
        cache.cache_clear()
    long_host = "a" * (CACHED_UP_TO + 1) + ".s3.amazonaws.com"
    for n in range(20):
        akid = f"ASIA{n:04d}" + "X" * (CACHED_UP_TO + 1)
        result = inspect(_url(f"{n}{long_host}", akid), now=NOW, sessions={akid: NOW})
        assert result.access_key_id == "ASIA…XXXX"
        assert result.host == f"{n}{long_host}"
        assert "CA303" in [f.code for f in result.findings]  # died with its session
    assert [cache.cache_info().currsize for cache in CACHES] == [0] * len(CACHES)


def test_short_values_are_cached_once_per_endpoint_and_key() -> None:
    for cache in CACHES:
        cache.cache_clear()
    for n in range(20):
        inspect(_url("bucket.s3.amazonaws.com", "ASIAY34FZKBOKMUTVV7A"), now=NOW)
    assert _endpoint.cache_info().currsize == 1
    assert _scope.cache_info().currsize == 1
    assert _key_facts.cache_info().currsize == 1


def test_sigv2_session_tokens_are_decoded_once_per_session_and_only_if_short() -> None:
    """A SigV2 check decodes each session's token once (its URLs share it); a token longer
    than 4 KiB is decoded every time and kept nowhere, with the same verdict."""
    from credaudit.presign.verify import _AMZ_CACHED_UP_TO, _amz_value
    from tests.presign.helpers import presign

    _amz_value.cache_clear()
    tokens = ["IQoJ/session+one==", "x" * (_AMZ_CACHED_UP_TO + 1)]
    for token in tokens:
        for name in ("a.txt", "b.txt", "c.txt"):
            url = presign(version="s3", secret="s", token=token, object_key=name)
            assert inspect(url, now=NOW, secret="s").signature_valid is True
            tampered = url.replace("x-amz-security-token=", "x-amz-security-token=A", 1)
            assert inspect(tampered, now=NOW, secret="s").signature_valid is False
    info = _amz_value.cache_info()
    # The short token and its tampered spelling, each decoded once; the long one never kept.
    assert (info.currsize, info.misses) == (2, 2)
