#!/usr/bin/env python3
"""Benchmark ``credaudit token`` on distinct RS256 tokens from several keys.

In one run, interleaved, best of ``--repeat``:
  1. baseline: a plain PyJWT loop, ``jwt.decode(token, key, algorithms=["RS256"],
     audience=...)`` with the key objects prepared beforehand (and handed to it by index, so
     it does not even parse the header to find the key: the cheapest honest loop);
  2. ``credaudit token --from FILE --format jsonl --jwks FILE --audience ...`` end to end
     (process start, reading, verifying, judging, writing to /dev/null);
  3. decoding without verification: ``credaudit token --from FILE --format jsonl`` end to
     end, the library's ``inspect_stream`` (records, no output), and the segment decoder alone;
  4. both CLI runs again with ``--jobs 2`` (the default picks only idle cores: on a loaded
     machine, one process);
  5. the floor: a bare loop doing only the irreducible work of a decode-only JSON line
     (split, decode, parse, fingerprint, instants, dump), to say how far pure Python can go.

The input looks like production: every token distinct (its own sub, jti, client), issued at
times spread over the last 50 minutes, lifetimes of 15, 30 or 60 minutes, signed by one of
``--keys`` RSA-2048 keys (kid rotation).  The tokens are cached in ``--workdir`` between runs
(signing 100,000 of them takes a minute or two), for at most ``STALE`` seconds: an older
cache no longer has that shape (after an hour every token has expired), so it is signed
anew.  Nothing is asserted: tests never judge speed.  Usage:

    .venv/bin/python scripts/bench_token.py [--tokens 100000] [--keys 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AUDIENCE = "urn:bench:api"
STALE = 30 * 60
ISSUER = "https://issuer.bench.example"


def generate(n: int, keys: int, workdir: Path) -> tuple[Path, Path, list[int]]:
    """(tokens file, JWKS file, key index per token), cached when the shape matches."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    tokens_file, jwks_file, meta = (
        workdir / "tokens.txt",
        workdir / "jwks.json",
        workdir / "meta.json",
    )
    if meta.exists():
        cached = json.loads(meta.read_text())
        if cached.get("shape") == [n, keys] and time.time() - cached.get("generated", 0) < STALE:
            return tokens_file, jwks_file, cached["kids"]
    workdir.mkdir(parents=True, exist_ok=True)
    private = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(keys)]
    jwks = {"keys": []}
    for i, key in enumerate(private):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        jwk.update(kid=f"bench-{i}", alg="RS256", use="sig")
        jwks["keys"].append(jwk)
    rng = random.Random(9)
    now = int(time.time())
    kids: list[int] = []
    with tokens_file.open("w") as out:
        for i in range(n):
            k = rng.randrange(keys)
            kids.append(k)
            iat = now - rng.randrange(0, 3000)
            claims = {
                "iss": ISSUER,
                "sub": f"svc-{rng.getrandbits(48):012x}",
                "aud": AUDIENCE,
                "client_id": f"client-{i % 997}",
                "scope": rng.choice(["read", "read write", "orders:read orders:write"]),
                "iat": iat,
                "exp": iat + rng.choice([900, 1800, 3600]),
                "jti": f"{rng.getrandbits(96):024x}",
            }
            token = jwt.encode(
                claims,
                private[k],
                algorithm="RS256",
                headers={"kid": f"bench-{k}", "typ": "at+jwt"},
            )
            out.write(token + "\n")
    jwks_file.write_text(json.dumps(jwks))
    meta.write_text(json.dumps({"shape": [n, keys], "kids": kids, "generated": now}))
    return tokens_file, jwks_file, kids


def best(repeat_results: list[float]) -> float:
    return min(repeat_results)


CPU: dict[str, list[float]] = {}  # CPU seconds of each run, workers included


def timed(work: Callable[[], object], name: str = "") -> float:
    """Wall seconds of one run; its CPU seconds (this process and its children) go to CPU."""
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    work()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(
        (a.ru_utime + a.ru_stime) - (b.ru_utime + b.ru_stime)
        for a, b in zip(after, before, strict=True)
    )
    CPU.setdefault(name, []).append(cpu)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=REPO / ".bench" / "token")
    args = parser.parse_args()
    tokens_file, jwks_file, kids = generate(args.tokens, args.keys, args.workdir)
    meta_file = args.workdir / "meta.json"
    tokens = tokens_file.read_text().splitlines()
    n = len(tokens)

    import jwt

    keyset = jwt.PyJWKSet.from_dict(json.loads(jwks_file.read_text()))
    by_kid = {k.key_id: k.key for k in keyset.keys}
    prepared = [by_kid[f"bench-{k}"] for k in kids]

    def pyjwt_loop() -> None:
        decode = jwt.decode
        expired = jwt.ExpiredSignatureError
        for token, key in zip(tokens, prepared, strict=True):
            try:
                decode(token, key, algorithms=["RS256"], audience=AUDIENCE)
            except expired:  # the loop a validator writes: an expired token is a result
                continue

    binary = os.environ.get("CREDAUDIT_BENCH_BIN") or str(REPO / ".venv" / "bin" / "credaudit")

    def cli(*extra: str) -> Callable[[], object]:
        argv = [binary, "token", "--from", str(tokens_file), "--format", "jsonl", *extra]

        def run() -> None:
            with open(os.devnull, "wb") as sink:
                done = subprocess.run(argv, stdout=sink, stderr=subprocess.PIPE, check=False)
            if done.returncode not in (0, 1):
                sys.exit(f"credaudit failed: {done.stderr.decode()[-400:]}")

        return run

    from datetime import UTC, datetime

    from credaudit.tokens import inspect_stream
    from credaudit.tokens.jwt_segments import decode

    now = datetime.now(UTC)

    def library() -> None:
        for _ in inspect_stream(tokens, now=now):
            pass

    def segments() -> None:
        for token in tokens:
            decode(token)

    def floor() -> None:
        """The irreducible work of a decode-only JSON line per token, as a bare loop: read
        the file's lines, split the token, base64url-decode and parse header and claims,
        the sha256 fingerprint, the three instants, and orjson's dump of a record holding
        the same fields and finding text as credaudit's, written to /dev/null.  No
        classification, no judgement beyond exp against now, no checks."""
        import binascii
        import hashlib

        import orjson

        urlsafe = bytes.maketrans(b"-_", b"+/")
        pad = (b"", b"", b"==", b"=")
        stamp = now.timestamp()
        fromtimestamp = datetime.fromtimestamp
        remediation = "x" * 200  # as long as CA801's remediation text
        with tokens_file.open("rb") as lines, open(os.devnull, "wb") as sink:
            out: list[bytes] = []
            for number, line in enumerate(lines, 1):
                token = line.rstrip(b"\n")
                head, body, _ = token.split(b".")
                header = orjson.loads(
                    binascii.a2b_base64(head.translate(urlsafe) + pad[len(head) % 4])
                )
                claims = orjson.loads(
                    binascii.a2b_base64(body.translate(urlsafe) + pad[len(body) % 4])
                )
                exp, iat = claims["exp"], claims["iat"]
                record = {
                    "line": number,
                    "fingerprint": "sha256:" + hashlib.sha256(token).hexdigest()[:12],
                    "algorithm": header.get("alg"),
                    "type": header.get("typ"),
                    "key_id": header.get("kid"),
                    "iss": claims.get("iss"),
                    "sub": claims.get("sub"),
                    "aud": claims.get("aud"),
                    "scope": claims.get("scope"),
                    "client_id": claims.get("client_id"),
                    "issued_at": fromtimestamp(iat, UTC),
                    "expires_at": fromtimestamp(exp, UTC),
                    "lifetime_seconds": exp - iat,
                    "remaining_seconds": int(exp - stamp),
                    "status": "expired" if exp <= stamp else "valid",
                    "findings": [{"code": "CA801", "remediation": remediation}]
                    if exp <= stamp
                    else [],
                }
                out.append(orjson.dumps(record, option=orjson.OPT_UTC_Z))
                if len(out) >= 64:
                    out.append(b"")
                    sink.write(b"\n".join(out))
                    out.clear()
            out.append(b"")
            sink.write(b"\n".join(out))

    names = (
        "pyjwt",
        "verify",
        "verify_j2",
        "decode_cli",
        "decode_cli_j2",
        "library",
        "segments",
        "floor",
    )
    runs: dict[str, list[float]] = {k: [] for k in names}
    verify = cli("--jwks", str(jwks_file), "--audience", AUDIENCE)
    verify_j2 = cli("--jwks", str(jwks_file), "--audience", AUDIENCE, "--jobs", "2")
    decode_cli = cli()
    decode_cli_j2 = cli("--jobs", "2")
    loads: list[float] = []
    for _ in range(args.repeat):
        loads.append(os.getloadavg()[0])
        work = {
            "pyjwt": pyjwt_loop,
            "verify": verify,
            "verify_j2": verify_j2,
            "decode_cli": decode_cli,
            "decode_cli_j2": decode_cli_j2,
            "library": library,
            "segments": segments,
            "floor": floor,
        }
        for name, run in work.items():
            runs[name].append(timed(run, name))

    def rate(name: str) -> float:
        return n / best(runs[name])

    print(
        f"input: {n} distinct RS256 tokens from {args.keys} keys (RSA-2048, typ at+jwt, "
        f"iat spread over 50 min, lifetimes 15/30/60 min), {tokens_file.stat().st_size} bytes, "
        f"signed {(time.time() - json.loads(meta_file.read_text())['generated']) / 60:.0f} min ago"
    )
    print(
        f"machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores (shared with other work: compare ratios, not absolutes)"
    )
    print(
        f"best of {args.repeat}, interleaved; load average at each round: "
        f"{', '.join(f'{v:.2f}' for v in loads)}"
    )
    print(f"| PyJWT loop (jwt.decode, prepared keys) | {rate('pyjwt'):,.0f} tokens/s | 1.00 |")
    print(
        f"| credaudit token --jwks, jsonl, end to end | {rate('verify'):,.0f} tokens/s | "
        f"{rate('verify') / rate('pyjwt'):.2f} |"
    )
    print(
        f"| credaudit token --jwks --jobs 2, jsonl, end to end | {rate('verify_j2'):,.0f} "
        f"tokens/s | {rate('verify_j2') / rate('pyjwt'):.2f} |"
    )
    print(
        f"| credaudit token (no keys), jsonl, end to end | {rate('decode_cli'):,.0f} tokens/s | "
        f"{rate('decode_cli') / rate('pyjwt'):.2f} |"
    )
    print(
        f"| credaudit token (no keys) --jobs 2, jsonl, end to end | "
        f"{rate('decode_cli_j2'):,.0f} tokens/s | {rate('decode_cli_j2') / rate('pyjwt'):.2f} |"
    )
    print(
        f"| credaudit.tokens.inspect_stream (no keys, records only) | "
        f"{rate('library'):,.0f} tokens/s | {rate('library') / rate('pyjwt'):.2f} |"
    )
    print(
        f"| credaudit.tokens.jwt_segments.decode alone | {rate('segments'):,.0f} tokens/s | "
        f"{rate('segments') / rate('pyjwt'):.2f} |"
    )
    print(
        f"| bare loop, the irreducible work (no process start) | {rate('floor'):,.0f} tokens/s | "
        f"{rate('floor') / rate('pyjwt'):.2f} |"
    )
    # Each round times the baseline and credaudit back to back: the ratio within a round is
    # steadier on a shared machine than the ratio of two best-of figures.
    for name in ("verify", "verify_j2"):
        rounds = sorted(p / v for p, v in zip(runs["pyjwt"], runs[name], strict=True))
        print(
            f"{name} vs PyJWT, per round: {', '.join(f'{r:.2f}' for r in rounds)} "
            f"(median {statistics.median(rounds):.2f})"
        )
    for name in ("decode_cli", "decode_cli_j2", "library", "segments", "floor"):
        spread = sorted(n / t for t in runs[name])
        print(f"{name} tokens/s per round: {', '.join(f'{r:,.0f}' for r in spread)}")
    # On a shared machine a run gets only part of a core: tokens per CPU second (workers
    # included) says what the code costs, whatever the load.
    for name in names:
        per_cpu = sorted(n / c for c in CPU[name] if c > 0)
        print(f"{name} tokens per CPU second: {', '.join(f'{r:,.0f}' for r in per_cpu)}")


if __name__ == "__main__":
    main()
