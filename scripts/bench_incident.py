"""Benchmark ``credaudit incident`` (issue 10) beside its baseline, in the same run, interleaved.

Input, written once per size under bench-out/: CloudTrail delivery files (gzipped
``{"Records": [...]}``, 1,000 records each, in the AWSLogs/<account>/CloudTrail/<region>/Y/M/D
layout, five minutes apart) from 400 roles whose sessions are re-minted every 50 minutes with
distinct key, request and event ids; S3 server access logs (one request per 5 CloudTrail
records) and application logs (one line per 5 records) from the same sessions; 20 roles have
an 8-minute refresh gap with ExpiredToken failures and blind retries in S3 and app logs.

Measured: ``credaudit incident DIR --format json`` end to end (a subprocess, the installed
product) against a bare loop over the same files — gzip + ``json.loads`` of every CloudTrail
file counting ExpiredToken records, and a line scan of the text logs for ExpiredToken — and the
peak RSS of the command at 250,000 and at 25,000 CloudTrail records.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import time
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench-out"
BIN = os.environ.get("CREDAUDIT_BENCH_BIN") or str(REPO / ".venv" / "bin" / "credaudit")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ACCOUNT = "111122223333"
START = datetime(2026, 4, 15, tzinfo=UTC)
PER_FILE = 1000
ROLES = 400
GAP_ROLES = 20
OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
HOST_ID = "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3="
EXPIRED = "The security token included in the request is expired"


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _human(t: datetime) -> str:
    return (
        f"{t:%b} {t.day}, {t.year}, {t.hour % 12 or 12}:{t:%M:%S} {'AM' if t.hour < 12 else 'PM'}"
    )


class Fleet:
    """400 roles; each session lives 1 h and is re-minted every 50 min.  For the first 20
    roles one refresh comes 8 min after the old session expired (the refresh path was down)."""

    def __init__(self, rng: random.Random, span: timedelta) -> None:
        self.rng = rng
        self.serial = 0
        self.mints: dict[int, list[datetime]] = {}
        self.sessions: dict[tuple[int, datetime], tuple[str, str]] = {}
        for role in range(ROLES):
            at = START - timedelta(seconds=rng.randrange(3000))
            gap_at = START + span * rng.random() if role < GAP_ROLES else None
            times = []
            while at < START + span:
                times.append(at)
                step = timedelta(minutes=50)
                if gap_at is not None and at <= gap_at < at + step:
                    step = timedelta(minutes=68)
                    gap_at = None
                at += step
            self.mints[role] = times

    def session(self, role: int, at: datetime) -> tuple[str, str, datetime, datetime]:
        times = self.mints[role]
        minted = times[bisect_right(times, at) - 1]
        key, arn = self.sessions[(role, minted)]
        return key, arn, minted, minted + timedelta(hours=1)

    def minting(self, role: int, minted: datetime) -> dict[str, object]:
        self.serial += 1
        key = f"ASIA{self.serial:016d}"
        name = f"botocore-session-{int(minted.timestamp())}{role:03d}"
        arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/role-{role:03d}/{name}"
        self.sessions[(role, minted)] = (key, arn)
        return {
            "eventVersion": "1.11",
            "eventTime": _iso(minted),
            "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRole",
            "awsRegion": "us-east-1",
            "userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"},
            "requestParameters": {
                "roleArn": f"arn:aws:iam::{ACCOUNT}:role/role-{role:03d}",
                "roleSessionName": name,
                "durationSeconds": 3600,
            },
            "responseElements": {
                "credentials": {
                    "accessKeyId": key,
                    "sessionToken": "IQoJb3JpZ2luX2VjE" + "x" * 400,
                    "expiration": _human(minted + timedelta(hours=1)),
                },
                "assumedRoleUser": {"assumedRoleId": f"AROA:{name}", "arn": arn},
            },
            "requestID": f"{self.rng.getrandbits(64):016x}",
            "eventID": f"{self.rng.getrandbits(64):016x}",
            "eventType": "AwsApiCall",
            "recipientAccountId": ACCOUNT,
        }


def generate(records: int) -> Path:
    root = OUT / f"incident-{records}"
    done = root / ".complete"
    if done.exists():
        return root
    rng = random.Random(records)
    files = records // PER_FILE
    fleet = Fleet(rng, timedelta(minutes=5 * files))
    mints = sorted((t, role) for role, times in fleet.mints.items() for t in times)
    first = [fleet.minting(role, t) for t, role in mints if t < START]
    s3_lines: list[str] = []
    app_lines: list[str] = []
    names = ["DescribeInstances", "GetObject", "PutObject", "SendMessage", "Query", "GetItem"]
    for f in range(files):
        slot = START + timedelta(minutes=5 * f)
        batch: list[dict[str, object]] = first if f == 0 else []
        batch += [
            fleet.minting(role, t) for t, role in mints if slot <= t < slot + timedelta(minutes=5)
        ]
        uses = sorted(slot + timedelta(seconds=rng.randrange(300)) for _ in range(PER_FILE + 200))
        for at in uses:
            if len(batch) >= PER_FILE:
                break
            role = rng.randrange(ROLES)
            key, arn, minted, expires = fleet.session(role, at)
            failing = at >= expires
            rid = f"{rng.getrandbits(64):016X}"
            if not failing:
                batch.append(
                    {
                        "eventVersion": "1.11",
                        "eventTime": _iso(at),
                        "eventSource": "ec2.amazonaws.com",
                        "eventName": rng.choice(names),
                        "awsRegion": "us-east-1",
                        "userIdentity": {
                            "type": "AssumedRole",
                            "arn": arn,
                            "accountId": ACCOUNT,
                            "accessKeyId": key,
                            "sessionContext": {
                                "attributes": {
                                    "creationDate": _iso(minted),
                                    "mfaAuthenticated": "false",
                                }
                            },
                        },
                        "sourceIPAddress": f"10.0.{role % 250}.{rng.randrange(250)}",
                        "requestParameters": {
                            "instancesSet": {"items": [{"instanceId": f"i-{rid.lower()}"}]}
                        },
                        "responseElements": None,
                        "requestID": rid,
                        "eventID": f"{rng.getrandbits(64):x}",
                        "eventType": "AwsApiCall",
                        "recipientAccountId": ACCOUNT,
                    }
                )
            if len(batch) % 5 == 0 or failing:
                stamp = at.strftime("%d/%b/%Y:%H:%M:%S +0000")
                obj = f"data/{role:03d}/{rng.randrange(10**6):06d}.json"
                status, err = ("400", "ExpiredToken") if failing else ("200", "-")
                for _ in range(3 if failing else 1):
                    s3_lines.append(
                        f"{OWNER} data-bkt [{stamp}] 10.0.{role % 250}.7 {arn} "
                        f"{rng.getrandbits(64):016X} REST.PUT.OBJECT {obj} "
                        f'"PUT /{obj} HTTP/1.1" {status} {err} 0 2048 31 12 "-" '
                        f'"aws-sdk-java/2.20" - {HOST_ID} SigV4 ECDHE-RSA-AES128-GCM-SHA256 '
                        "AuthHeader data-bkt.s3.us-east-1.amazonaws.com TLSv1.2 - -"
                    )
                app_lines.append(
                    f"{_iso(at)} worker=role-{role:03d} requestId=req_{rid.lower()} "
                    f"credentialExpiration={_iso(expires)} requestSentAt={_iso(at)}"
                    + (f' error=ExpiredToken message="{EXPIRED}"' if failing else " status=200")
                )
        folder = root / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1" / f"{slot:%Y/%m/%d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = (
            f"{ACCOUNT}_CloudTrail_us-east-1_{slot:%Y%m%dT%H%MZ}_{rng.getrandbits(48):012x}.json.gz"
        )
        (folder / name).write_bytes(gzip.compress(json.dumps({"Records": batch}).encode(), 6))
    for kind, lines, per in (("s3-logs", s3_lines, 5000), ("app-logs", app_lines, 5000)):
        folder = root / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(0, len(lines), per):
            (folder / f"{kind}-{i // per:04d}.log.gz").write_bytes(
                gzip.compress(("\n".join(lines[i : i + per]) + "\n").encode(), 6)
            )
    done.write_text(
        f"{records} CloudTrail records, {len(s3_lines)} S3 lines, {len(app_lines)} app lines\n"
    )
    return root


def baseline(root: Path) -> int:
    """The bare loop: gzip + json.loads of every CloudTrail file, a line scan of the rest."""
    count = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            if name.startswith("."):
                continue
            with open(path, "rb") as handle:
                data = gzip.decompress(handle.read())
            if "CloudTrail" in path:
                count += sum(
                    1 for r in json.loads(data)["Records"] if r.get("errorCode") == "ExpiredToken"
                )
            else:
                count += data.count(b"ExpiredToken")
    return count


# Started from a fresh small interpreter: Linux counts a child's resident pages before exec
# (its copy of the parent) in its ru_maxrss, so a child forked by this script — which holds the
# parsed 250k report — would report at least this script's RSS (52 MiB measured: every earlier
# 25k figure was this floor, not the command).
_LAUNCH = (
    "import os, subprocess, sys\n"
    "proc = subprocess.Popen(sys.argv[1:])\n"
    "_, _, usage = os.wait4(proc.pid, 0)\n"
    "print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime, file=sys.stderr)\n"
)


def run_incident(root: Path, *extra: str) -> tuple[float, float, int, dict[str, object]]:
    """Wall time, CPU time (user + sys of the command and its workers), peak RSS (KiB, the
    largest process) and the report summary."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, BIN, "incident", str(root), "--format", "json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    doc = json.loads(out)
    peak, cpu = err.split()[-2:]
    return wall, float(cpu), int(peak), doc["summary"]


def run_baseline(root: Path) -> tuple[float, float, int]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--baseline", str(root)], stdout=subprocess.PIPE
    )
    out = proc.stdout.read() if proc.stdout else b""
    _pid, _status, usage = os.wait4(proc.pid, 0)
    assert int(out.strip()) >= 0
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def main() -> None:
    big, small = generate(250_000), generate(25_000)
    print((big / ".complete").read_text().strip(), "|", (small / ".complete").read_text().strip())
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    times: dict[str, list[float]] = {"incident": [], "jobs1": [], "baseline": []}
    cpus: dict[str, list[float]] = {"incident": [], "jobs1": [], "baseline": []}
    rss: dict[str, list[int]] = {"250k": [], "250k jobs1": [], "25k": []}
    summary: dict[str, object] = {}
    for _ in range(RUNS):
        wall, cpu, peak, summary = run_incident(big)
        times["incident"].append(wall)
        cpus["incident"].append(cpu)
        rss["250k"].append(peak)
        base, cpu, _ = run_baseline(big)
        times["baseline"].append(base)
        cpus["baseline"].append(cpu)
        wall, cpu, peak, _ = run_incident(big, "--jobs", "1")
        times["jobs1"].append(wall)
        cpus["jobs1"].append(cpu)
        rss["250k jobs1"].append(peak)
        _, _, small_peak, _ = run_incident(small)
        rss["25k"].append(small_peak)
    med = {name: statistics.median(values) for name, values in times.items()}
    cpu_med = {name: statistics.median(values) for name, values in cpus.items()}
    runs = {name: [round(t, 2) for t in values] for name, values in times.items()}
    labels = {
        "incident": "incident --format json (auto jobs)",
        "jobs1": "incident --format json --jobs 1",
        "baseline": "bare gzip+json.loads loop",
    }
    for name, label in labels.items():
        print(
            f"250k: {label:<36} median {med[name]:.2f} s  {runs[name]}  "
            f"CPU median {cpu_med[name]:.2f} s"
        )
    print(
        f"ratio incident / baseline: {med['incident'] / med['baseline']:.2f}x (auto), "
        f"{med['jobs1'] / med['baseline']:.2f}x (--jobs 1) (target <= 1.0x); CPU "
        f"{cpu_med['incident'] / cpu_med['baseline']:.2f}x (auto, all processes), "
        f"{cpu_med['jobs1'] / cpu_med['baseline']:.2f}x (--jobs 1)"
    )
    small_peak = max(rss["25k"])
    for name in ("250k", "250k jobs1"):
        peak = max(rss[name])
        print(
            f"peak RSS: {name} {peak / 1024:.0f} MiB, 25k {small_peak / 1024:.0f} MiB, "
            f"ratio {peak / small_peak:.2f}x (target <= 1.5x)"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(f"report: {summary}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--baseline":
        print(baseline(Path(sys.argv[2])))
    else:
        main()
