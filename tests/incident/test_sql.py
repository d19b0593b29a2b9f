"""``--sql``: the DuckDB form runs on DuckDB over the scenario logs loaded into tables of the
Athena shape (CloudTrail JSON columns, S3 lines split by AWS's own regex) and gives the embedded
engine's answers; the Spark form runs on Spark over the same tables; the Trino and Athena forms
parse back."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.incident import collect, report
from credaudit.incident.embedded import Options
from credaudit.incident.sql import S3_COLUMNS, S3_REGEX, query, transpile
from credaudit.keys import mask_key
from credaudit.model import Severity, format_instant
from tests.incident.scenarios import SCENARIOS

# The scenarios whose evidence is in CloudTrail and S3 access logs (what Athena tables hold).
SQL_SCENARIOS = [
    "hard-expiry",
    "refresh-gap",
    "presigned-url",
    "corrupt",
    "wrong-source",
    "clock-skew",
]


def _files(root: Path) -> tuple[list[Path], list[Path]]:
    trail = sorted(p for p in (root / "AWSLogs").rglob("*.json.gz") if "truncated" not in p.name)
    s3 = sorted((root / "s3-logs").iterdir()) if (root / "s3-logs").exists() else []
    return trail, s3


def _records(trail: list[Path]) -> list[dict[str, Any]]:
    out = []
    for path in trail:
        for rec in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            ident = rec.get("userIdentity") or {}
            out.append(
                {
                    "eventtime": rec["eventTime"],
                    "eventname": rec["eventName"],
                    "eventsource": rec["eventSource"],
                    "errorcode": rec.get("errorCode"),
                    "errormessage": rec.get("errorMessage"),
                    "requestid": rec.get("requestID"),
                    "useridentity": {
                        "type": ident.get("type"),
                        "arn": ident.get("arn"),
                        "accesskeyid": ident.get("accessKeyId"),
                    },
                    "requestparameters": json.dumps(rec["requestParameters"])
                    if rec.get("requestParameters") is not None
                    else None,
                    "responseelements": json.dumps(rec["responseElements"])
                    if rec.get("responseElements") is not None
                    else None,
                }
            )
    return out


def _duckdb(root: Path) -> Any:
    import duckdb

    trail, s3 = _files(root)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE cloudtrail_logs (eventtime VARCHAR, eventname VARCHAR, eventsource VARCHAR,"
        " errorcode VARCHAR, errormessage VARCHAR, requestid VARCHAR, useridentity STRUCT(type VARCHAR, arn VARCHAR,"
        " accesskeyid VARCHAR), requestparameters VARCHAR, responseelements VARCHAR)"
    )
    cols = [
        "eventtime",
        "eventname",
        "eventsource",
        "errorcode",
        "errormessage",
        "requestid",
        "useridentity",
        "requestparameters",
        "responseelements",
    ]
    rows = [[r[c] for c in cols] for r in _records(trail)]
    con.executemany(f"INSERT INTO cloudtrail_logs VALUES ({', '.join('?' * len(cols))})", rows)
    # What Athena's RegexSerDe does with the documented regex: group i -> column i.
    regex = re.compile(S3_REGEX)
    columns = ", ".join(f"{c} VARCHAR" for c in S3_COLUMNS)
    con.execute(f"CREATE TABLE s3_access_logs ({columns})")
    split = [
        list(m.groups())
        for p in s3
        for line in p.read_text().splitlines()
        if (m := regex.fullmatch(line)) is not None
    ]
    if split:
        marks = ", ".join("?" * len(S3_COLUMNS))
        con.executemany(f"INSERT INTO s3_access_logs VALUES ({marks})", split)
    return con


def _expected(root: Path) -> list[tuple[Any, ...]]:
    """The embedded engine's answers on the same CloudTrail and S3 files, as SQL rows."""
    trail, s3 = _files(root)
    result = report(
        collect([str(p) for p in trail + s3], Options()),
        engine="embedded",
        inputs=[],
        fail_on=Severity.HIGH,
    )
    keys = {s.id: s for s in result.sessions}
    rows = []
    for f in result.findings:
        d = f.details
        if f.code == "CA903":
            key = next(
                s.access_key_id
                for s in result.sessions
                if s.expires_at
                and format_instant(s.expires_at) == d["expired_at"]
                and s.principal == f.subject
            )
            rows.append(
                (
                    "CA903",
                    key,
                    None,
                    None,
                    d["gap_seconds"],
                    d["expired_at"],
                    d["next_minted_at"],
                    None,
                    None,
                    None,
                    None,
                )
            )
            continue
        sid = f.subject.split(" ")[0]
        key = keys[sid].access_key_id if sid in keys else None
        if f.code == "CA901":
            rows.append(
                (
                    "CA901",
                    key,
                    d["failures"],
                    None,
                    d["seconds_after_expiry"],
                    d["first_failure_at"],
                    d["last_failure_at"],
                    None,
                    None,
                    None,
                    None,
                )
            )
        elif f.code == "CA902":
            rows.append(
                (
                    "CA902",
                    key,
                    d["retries"],
                    d["requests"],
                    d["seconds"],
                    d["first_failure_at"],
                    d["last_retry_at"],
                    None,
                    None,
                    None,
                    None,
                )
            )
        elif f.code == "CA905":
            rows.append(
                (
                    "CA905",
                    key,
                    d["requests"],
                    None,
                    d["url_remaining_seconds"],
                    None,
                    None,
                    d["url_ttl_seconds"],
                    d["session_remaining_seconds"],
                    d["failed_after_signing_seconds"],
                    None,
                )
            )
        elif f.code in ("CA906", "CA907"):
            # A session's key, else the key or requester the embedded engine names.
            rows.append(
                (
                    f.code,
                    key or f.subject,
                    d["failures"],
                    d.get("valid_sessions"),
                    d.get("skew_seconds"),
                    d.get("first_failure_at"),
                    None,
                    None,
                    None,
                    None,
                    d["codes"],
                )
            )
    return sorted(rows, key=str)


def _normalise(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    def t(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.strftime("%Y-%m-%dT%H:%M:%SZ")
        return int(v) if isinstance(v, float | int) and not isinstance(v, bool) else v

    out = []
    for code, principal, key, n, requests, seconds, first, last, ttl, rem, after, codes in rows:
        who = mask_key(key)
        if code in ("CA906", "CA907"):
            who = (
                who or principal or ("unknown credential" if code == "CA906" else "unknown session")
            )
        first_at = None if code in ("CA905", "CA907") else t(first)
        last_at = None if code == "CA905" else t(last)
        out.append(
            (
                code,
                who,
                t(n),
                t(requests),
                t(seconds),
                first_at,
                last_at,
                t(ttl),
                t(rem),
                t(after),
                codes,
            )
        )
    return sorted(out, key=str)


@pytest.mark.parametrize("name", SQL_SCENARIOS)
def test_duckdb_form_gives_the_embedded_answers(name: str, tmp_path: Path) -> None:
    root = SCENARIOS[name](tmp_path / name).root
    con = _duckdb(root)
    got = _normalise(con.execute(query()).fetchall())
    want = _expected(root)
    assert want, "the scenario must find something"
    assert got == want


def test_spark_form_runs_on_spark_with_the_same_answers(spark: Any, tmp_path: Path) -> None:
    """Four incidents in one set of tables (one Spark query: each costs seconds)."""
    from pyspark.sql import Row

    roots = [
        SCENARIOS[name](tmp_path / name).root
        for name in ("hard-expiry", "presigned-url", "wrong-source", "clock-skew")
    ]
    s3_rows: list[Any] = []
    records: list[dict[str, Any]] = []
    for root in roots:
        s3_rows += _duckdb(root).execute("SELECT * FROM s3_access_logs").fetchall()
        records += _records(_files(root)[0])
    cols = [
        "eventtime",
        "eventname",
        "eventsource",
        "errorcode",
        "errormessage",
        "requestid",
        "useridentity",
        "requestparameters",
        "responseelements",
    ]
    trail = spark.createDataFrame(
        [tuple(Row(**r[c]) if c == "useridentity" else r[c] for c in cols) for r in records],
        schema="eventtime string, eventname string, eventsource string, errorcode string, "
        "errormessage string, requestid string, useridentity struct<type:string,arn:string,accesskeyid:string>, "
        "requestparameters string, responseelements string",
    )
    trail.createOrReplaceTempView("cloudtrail_logs")
    s3 = spark.createDataFrame(s3_rows, schema=", ".join(f"{c} string" for c in S3_COLUMNS))
    s3.createOrReplaceTempView("s3_access_logs")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    got = [tuple(r) for r in spark.sql(transpile("spark")).collect()]
    want = sorted((row for root in roots for row in _expected(root)), key=str)
    assert {row[0] for row in want} == {"CA901", "CA902", "CA903", "CA905", "CA906", "CA907"}
    assert _normalise(got) == want


@pytest.mark.parametrize("dialect", ["athena", "trino", "spark", "duckdb"])
def test_every_dialect_parses_back(dialect: str) -> None:
    import sqlglot

    out = CliRunner().invoke(
        cli, ["incident", "--sql", dialect, "--cloudtrail-table", "ct", "--s3-table", "s3l"]
    )
    assert out.exit_code == 0, out.output
    read: Callable[..., Any] = sqlglot.parse
    body = "\n".join(line for line in out.stdout.splitlines() if not line.startswith("--"))
    statements = [s for s in read(body, read=dialect) if s is not None]
    assert len(statements) == 1
    tables = {t.name for t in statements[0].find_all(sqlglot.exp.Table)}
    assert {"ct", "s3l"} <= tables
    if dialect == "athena":
        assert "projection.timestamp.format'='yyyy/MM/dd" in out.stdout
        assert "RegexSerDe" in out.stdout


def test_table_names_are_checked() -> None:
    out = CliRunner().invoke(cli, ["incident", "--sql", "trino", "--s3-table", "x; DROP"])
    assert out.exit_code != 0
