"""CloudFront signed URLs, as botocore's ``CloudFrontSigner`` writes them.

They are signed with a key group's RSA key, not with AWS credentials: no session ends them,
they live until the canned policy's ``Expires`` or the custom policy's ``DateLessThan``, and
their signature needs the public key (not checked with a secret).  Before credaudit knew
them, a canned-policy URL (``Expires`` + ``Signature``) was read as SigV2 and reported
malformed for its missing ``AWSAccessKeyId``.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from credaudit.errors import InputError
from credaudit.presign import inspect
from credaudit.presign.cloudfront import load_public_key
from credaudit.presign.parse import CLOUDFRONT, CLOUDFRONT_SHA256, parse
from tests.report.ci_helpers import bare_env, credaudit

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
UNTIL = NOW + timedelta(hours=6)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SIGNER = CloudFrontSigner(
    "K2JCJMDEHXQW5F", lambda m: KEY.sign(m, padding.PKCS1v15(), hashes.SHA1())
)
BASE = "https://d111111abcdef8.cloudfront.net/reports/ü 1.pdf?size=large"


def _signature(url: str) -> str:
    return url.split("Signature=")[1].split("&", maxsplit=1)[0]


def test_canned_policy_lives_until_expires_and_is_not_checkable_with_a_secret() -> None:
    url = SIGNER.generate_presigned_url(BASE, date_less_than=UNTIL)
    result = inspect(url, now=NOW, secret="not-the-key")
    assert (result.algorithm, result.service, result.access_key_id) == (
        CLOUDFRONT,
        "cloudfront",
        "K2JC…QW5F",
    )
    assert result.expires_at == UNTIL and result.effective_expires_at == UNTIL
    assert result.session_expires_at is None and result.status == "valid"
    assert result.findings == []  # no session behind it: no CA302
    assert result.signature_valid is None and "--public-key" in (result.signature_note or "")
    assert result.url is not None and _signature(url) not in result.url
    assert "Signature=…" in result.url and "size=large" in result.url


def test_custom_policy_lives_until_date_less_than() -> None:
    policy = SIGNER.build_policy(
        "https://d111111abcdef8.cloudfront.net/*",
        UNTIL,
        date_greater_than=NOW - timedelta(minutes=5),
        ip_address="10.0.0.0/8",
    )
    url = SIGNER.generate_presigned_url(BASE, policy=policy)
    assert "Expires=" not in url and "Policy=" in url
    later = NOW + timedelta(hours=6, seconds=1)
    assert inspect(url, now=NOW).expires_at == UNTIL
    expired = inspect(url, now=later)
    assert expired.status == "expired" and [f.code for f in expired.findings] == ["CA303"]


def test_sha256_signatures_are_labelled() -> None:
    url = SIGNER.generate_presigned_url(BASE, date_less_than=UNTIL) + "&Hash-Algorithm=SHA256"
    assert parse(url).algorithm == CLOUDFRONT_SHA256


def _policy(document: object) -> str:
    raw = base64.b64encode(json.dumps(document).encode()).decode()
    return raw.replace("+", "-").replace("=", "_").replace("/", "~")


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("Expires=1796644800&Key-Pair-Id=K2", "needs Signature and Expires or Policy"),
        ("Signature=abc&Key-Pair-Id=K2", "needs Signature and Expires or Policy"),
        ("Expires=soon&Signature=abc&Key-Pair-Id=K2", "Expires is not an epoch integer"),
        ("Policy=%%%&Signature=abc&Key-Pair-Id=K2", "is not base64 JSON"),
        (f"Policy={_policy({'Statement': []})}&Signature=a&Key-Pair-Id=K2", "is not base64 JSON"),
        (
            f"Policy={_policy({'Statement': [{'Condition': {'DateLessThan': {'AWS:EpochTime': '1'}}}]})}"
            "&Signature=a&Key-Pair-Id=K2",
            "DateLessThan is not an epoch integer",
        ),
    ],
)
def test_broken_cloudfront_urls_say_what_is_wrong(query: str, problem: str) -> None:
    result = inspect(f"https://d1.cloudfront.net/k?{query}", now=NOW)
    assert result.status == "invalid"
    assert any(problem in f.message for f in result.findings), result.findings


PUBLIC_PEM = KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()


def _custom(resource: str = "https://d111111abcdef8.cloudfront.net/*") -> str:
    policy = SIGNER.build_policy(resource, UNTIL, ip_address="10.0.0.0/8")
    return str(SIGNER.generate_presigned_url(BASE, policy=policy))


def test_the_key_groups_public_key_verifies_canned_and_custom_urls() -> None:
    keys = [OTHER, load_public_key(PUBLIC_PEM, "test key")]
    for url in (SIGNER.generate_presigned_url(BASE, date_less_than=UNTIL), _custom()):
        good = inspect(url, now=NOW, public_keys=keys)
        assert good.signature_valid is True and good.status == "valid", url
        wrong = inspect(url, now=NOW, public_keys=[OTHER])
        assert wrong.signature_valid is False and wrong.status == "invalid"
        assert "CA308" in [f.code for f in wrong.findings]
        # One character of what the policy covers: the path (canned), the policy (custom).
        at = url.index("Policy=") + 40 if "Policy=" in url else url.index("reports")
        changed = url[:at] + ("A" if url[at] != "A" else "B") + url[at + 1 :]
        assert inspect(changed, now=NOW, public_keys=keys).signature_valid is not True


def test_sha256_signatures_verify_with_sha256() -> None:
    signer = CloudFrontSigner(
        "K2JCJMDEHXQW5F", lambda m: KEY.sign(m, padding.PKCS1v15(), hashes.SHA256())
    )
    url = signer.generate_presigned_url(BASE, date_less_than=UNTIL) + "&Hash-Algorithm=SHA256"
    assert inspect(url, now=NOW, public_keys=[KEY.public_key()]).signature_valid is True
    sha1 = SIGNER.generate_presigned_url(BASE, date_less_than=UNTIL) + "&Hash-Algorithm=SHA256"
    assert inspect(sha1, now=NOW, public_keys=[KEY.public_key()]).signature_valid is False


def test_a_key_that_is_not_an_rsa_pem_is_refused_by_name() -> None:
    with pytest.raises(InputError, match=r"--public-key k\.pem: not a PEM public key"):
        load_public_key(b"hello", "--public-key k.pem")
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(InputError, match="CloudFront keys are RSA"):
        load_public_key(ec_pem, "--public-key ec.pem")


def test_cli_verifies_with_public_key_files(tmp_path: Path) -> None:
    pem = tmp_path / "key-group.pem"
    pem.write_bytes(PUBLIC_PEM)
    source = tmp_path / "urls.txt"
    canned = SIGNER.generate_presigned_url(BASE, date_less_than=UNTIL)
    source.write_text(f"{canned}\n{_custom()}\n{canned.replace('reports', 'reportz')}\n")
    # A HOME of its own: the session lookup reads nothing of this machine's.
    env = bare_env(tmp_path)
    run = ["url", "--no-network", "--format", "jsonl", "--at", "2026-12-06T12:00:00Z"]
    run += ["--from", str(source)]
    done = credaudit([*run, "--verify", "--public-key", str(pem)], env)
    verdicts = [json.loads(line)["signature_valid"] for line in done.stdout.splitlines()]
    assert verdicts == [True, True, False], done.stderr
    assert done.returncode == 1  # CA308 is high
    assert _signature(canned) not in done.stdout
    bad = credaudit([*run, "--verify", "--public-key", str(source)], env)
    assert bad.returncode == 2 and f"--public-key {source}: not a PEM" in bad.stderr
    fifo = tmp_path / "key.fifo"
    os.mkfifo(fifo)  # open() would block on it for ever; the option reader refuses it
    piped = credaudit([*run, "--verify", "--public-key", str(fifo)], env)
    assert piped.returncode == 2 and "not a regular file" in piped.stderr
    for key in (pem, source):  # the usage error comes first, before the file is read
        alone = credaudit([*run, "--public-key", str(key)], env)
        assert alone.returncode == 2 and "only make sense with --verify" in alone.stderr
