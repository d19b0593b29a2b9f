"""``credaudit incident --sql``: the analysis as SQL, for logs that already live in S3.

Written once, in DuckDB's dialect, over the AWS-documented Athena tables (CloudTrail with
partition projection, S3 server access logs with the documented RegexSerDe); sqlglot transpiles
it to ``athena``, ``trino`` and ``spark``.  The tests execute the DuckDB form on DuckDB over the
scenario logs loaded into tables of the Athena shape, and compare its answers with the embedded
engine's.  What it covers is what those two tables can show (reference §1: failures come from
the S3 access logs, minting from CloudTrail): CA901 expired-session use, CA902 re-sends, CA903
refresh gaps, CA905 presigned URLs that outlived their session, CA906 wrong credential source
and CA907 clock skew (from CloudTrail's errorcode/errormessage and S3's error code).  CA904
needs a header-signed request's signing time, which neither table holds, and CA908 is about
files no SerDe could read.  SDK and application logs are not in Athena tables; run
``credaudit incident`` on them.

sqlglot's gaps (reference §6) are handled here, not worked around in the SQL: Spark's
``to_timestamp`` patterns need quoted literals, so the four time formats are mapped by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from credaudit.errors import InputError
from credaudit.incident.errors import SKEW, WRONG_SOURCE

# AWS's Athena regex for S3 server access logs (reference §4), used by the DDL and the tests.
S3_REGEX = (
    r'([^ ]*) ([^ ]*) \[(.*?)\] ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) (-|[0-9]*) '
    r'([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) ([^ ]*)(?: ([^ ]*) ([^ ]*) '
    r"([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*))?.*$"
)
S3_COLUMNS = (
    "bucketowner", "bucket_name", "requestdatetime", "remoteip", "requester", "requestid",
    "operation", "key", "request_uri", "httpstatus", "errorcode", "bytessent", "objectsize",
    "totaltime", "turnaroundtime", "referrer", "useragent", "versionid", "hostid", "sigv",
    "ciphersuite", "authtype", "endpoint", "tlsversion", "accesspointarn", "aclrequired",
)  # fmt: skip

# Columns of the result: one row per finding.
#   CA901: n = failures, seconds = seconds_after_expiry, first_at/last_at = failures
#   CA902: n = retries, requests = requests re-sent, seconds = first failure → last re-send
#   CA903: seconds = gap_seconds, first_at = expiry, last_at = next session minted (NULL: none)
#   CA905: n = requests, seconds = url_remaining_seconds, url_ttl_seconds,
#          session_remaining_seconds, failed_after_signing_seconds
#   CA906: n = failures, requests = valid_sessions, first_at = first failure, codes
#   CA907: n = failures, seconds = skew_seconds, first_at = first failure, codes
#   (CA906/CA907 rows without a key name the requester ARN in principal)
ANALYSIS = """
WITH minted AS (
  SELECT
    responseelements ->> '$.credentials.accessKeyId' AS access_key_id,
    responseelements ->> '$.assumedRoleUser.arn' AS session_arn,
    regexp_replace(COALESCE(requestparameters ->> '$.roleArn', useridentity.arn),
                   ':role/(.*/)?', ':role/') AS principal,
    strptime(eventtime, '%Y-%m-%dT%H:%M:%SZ') AS minted_at,
    strptime(replace(responseelements ->> '$.credentials.expiration', ',', ''),
             '%b %d %Y %I:%M:%S %p') AS expires_at
  FROM {cloudtrail}
  WHERE eventname IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity',
                      'GetSessionToken', 'GetFederationToken', 'AssumeRoot')
    AND errorcode IS NULL
    AND responseelements ->> '$.credentials.accessKeyId' IS NOT NULL
),
failed AS (
  SELECT
    requestid, requester, operation, bucket_name, key,
    strptime(substr(requestdatetime, 1, 20), '%d/%b/%Y:%H:%M:%S') AS failed_at,
    NULLIF(regexp_extract(request_uri, 'X-Amz-Credential=([A-Z0-9]+)', 1), '') AS url_key,
    strptime(NULLIF(regexp_extract(request_uri, 'X-Amz-Date=([0-9]{8}T[0-9]{6}Z)', 1), ''),
             '%Y%m%dT%H%M%SZ') AS url_signed_at,
    TRY_CAST(NULLIF(regexp_extract(request_uri, 'X-Amz-Expires=([0-9]+)', 1), '') AS BIGINT)
      AS url_ttl
  FROM {s3}
  WHERE errorcode = 'ExpiredToken'
),
candidates AS (
  SELECT f.*, m.access_key_id, m.principal, m.minted_at, m.expires_at,
    ROW_NUMBER() OVER (PARTITION BY f.requestid ORDER BY m.minted_at DESC) AS pick
  FROM failed AS f
  JOIN minted AS m
    ON f.url_key = m.access_key_id
    OR (f.url_key IS NULL AND f.requester = m.session_arn AND m.minted_at <= f.failed_at)
),
tied AS (
  SELECT *,
    CASE WHEN url_key IS NOT NULL AND date_diff('second', url_signed_at, failed_at) < url_ttl
         THEN 'CA905' ELSE 'CA901' END AS cause
  FROM candidates
  WHERE pick = 1
),
expired AS (
  SELECT access_key_id, principal, minted_at, expires_at, COUNT(*) AS failures,
    MIN(failed_at) AS first_at, MAX(failed_at) AS last_at
  FROM tied WHERE cause = 'CA901'
  GROUP BY access_key_id, principal, minted_at, expires_at
),
resent AS (
  SELECT access_key_id, requester, operation, bucket_name, key, COUNT(*) - 1 AS retries,
    MIN(failed_at) AS first_at, MAX(failed_at) AS last_at
  FROM tied WHERE cause = 'CA901'
  GROUP BY access_key_id, requester, operation, bucket_name, key
  HAVING COUNT(*) > 1
),
successor AS (
  SELECT e.access_key_id, MIN(m.minted_at) AS next_minted_at
  FROM expired AS e
  JOIN minted AS m ON m.principal = e.principal AND m.minted_at > e.minted_at
  GROUP BY e.access_key_id
),
presigned AS (
  SELECT access_key_id, principal, expires_at, COUNT(*) AS requests, MAX(url_ttl) AS url_ttl,
    arg_min(failed_at, failed_at) AS first_at, arg_min(url_signed_at, failed_at) AS signed_at,
    arg_min(url_ttl, failed_at) AS first_ttl
  FROM tied WHERE cause = 'CA905'
  GROUP BY access_key_id, principal, expires_at
),
rejected AS (
  SELECT useridentity.accesskeyid AS use_key, useridentity.arn AS use_arn,
    useridentity.arn AS use_who, errorcode,
    strptime(eventtime, '%Y-%m-%dT%H:%M:%SZ') AS failed_at,
    strptime(NULLIF(regexp_extract(errormessage, '{signature_expired}', 1), ''),
             '%Y%m%dT%H%M%SZ') AS msg_signed_at,
    strptime(NULLIF(regexp_extract(errormessage, '{signature_expired}', 2), ''),
             '%Y%m%dT%H%M%SZ') AS msg_server_at,
    CAST(NULL AS TIMESTAMP) AS url_signed_at
  FROM {cloudtrail}
  WHERE errorcode IN ({rejection_codes})
  UNION ALL
  SELECT url_key, CASE WHEN requester LIKE 'arn:%' THEN requester END, NULLIF(requester, '-'),
    errorcode, failed_at, NULL, NULL, url_signed_at
  FROM (
    SELECT requester, errorcode,
      strptime(substr(requestdatetime, 1, 20), '%d/%b/%Y:%H:%M:%S') AS failed_at,
      NULLIF(regexp_extract(request_uri, 'X-Amz-Credential=([A-Z0-9]+)', 1), '') AS url_key,
      strptime(NULLIF(regexp_extract(request_uri, 'X-Amz-Date=([0-9]{8}T[0-9]{6}Z)', 1), ''),
               '%Y%m%dT%H%M%SZ') AS url_signed_at
    FROM {s3}
    WHERE errorcode IN ({rejection_codes})
  ) AS s3_rejected
),
numbered AS (
  SELECT *,
    ROW_NUMBER() OVER (ORDER BY failed_at, use_key, use_who, errorcode) AS rid,
    CASE WHEN errorcode IN ({skew_codes}) OR msg_server_at IS NOT NULL
         THEN 'CA907' ELSE 'CA906' END AS cause,
    CASE WHEN msg_server_at IS NOT NULL THEN date_diff('second', msg_signed_at, msg_server_at)
         WHEN url_signed_at IS NOT NULL THEN date_diff('second', url_signed_at, failed_at)
    END AS skew
  FROM rejected
),
rejected_tied AS (
  SELECT n.*, COALESCE(m.access_key_id, n.use_key) AS access_key_id,
    CASE WHEN m.access_key_id IS NULL AND n.use_key IS NULL THEN n.use_who END AS principal,
    ROW_NUMBER() OVER (PARTITION BY n.rid ORDER BY m.minted_at DESC) AS pick
  FROM numbered AS n
  LEFT JOIN minted AS m
    ON n.use_key = m.access_key_id
    OR (n.use_key IS NULL AND n.use_arn = m.session_arn AND m.minted_at <= n.failed_at)
),
rejected_groups AS (
  SELECT cause, access_key_id, principal, COUNT(*) AS failures, MIN(failed_at) AS first_at,
    arg_max(skew, abs(skew)) AS skew,
    array_to_string(list_sort(list_distinct(list(errorcode))), ',') AS codes
  FROM rejected_tied WHERE pick = 1
  GROUP BY cause, access_key_id, principal
),
wrong_source AS (
  SELECT g.access_key_id, g.principal, g.failures, g.first_at, g.codes,
    COUNT(m.access_key_id) AS valid_sessions
  FROM rejected_groups AS g
  LEFT JOIN minted AS m ON m.minted_at <= g.first_at AND g.first_at < m.expires_at
  WHERE g.cause = 'CA906'
  GROUP BY g.access_key_id, g.principal, g.failures, g.first_at, g.codes
)
SELECT 'CA901' AS code, principal, access_key_id, failures AS n, NULL AS requests,
  date_diff('second', expires_at, first_at) AS seconds, first_at, last_at,
  NULL AS url_ttl_seconds, NULL AS session_remaining_seconds,
  NULL AS failed_after_signing_seconds, NULL AS codes
FROM expired
UNION ALL
SELECT 'CA902', NULL, access_key_id, SUM(retries), COUNT(*),
  date_diff('second', MIN(first_at), MAX(last_at)), MIN(first_at), MAX(last_at),
  NULL, NULL, NULL, NULL
FROM resent GROUP BY access_key_id
UNION ALL
SELECT 'CA903', e.principal, e.access_key_id, NULL, NULL,
  CASE WHEN s.next_minted_at IS NULL THEN date_diff('second', e.expires_at, e.last_at)
       ELSE date_diff('second', e.expires_at, s.next_minted_at) END,
  e.expires_at, s.next_minted_at, NULL, NULL, NULL, NULL
FROM expired AS e LEFT JOIN successor AS s ON s.access_key_id = e.access_key_id
WHERE s.next_minted_at IS NULL OR s.next_minted_at > e.expires_at
UNION ALL
SELECT 'CA905', principal, access_key_id, requests, NULL,
  date_diff('second', first_at, signed_at) + first_ttl, first_at, first_at, url_ttl,
  date_diff('second', signed_at, expires_at), date_diff('second', signed_at, first_at), NULL
FROM presigned
UNION ALL
SELECT 'CA906', principal, access_key_id, failures, valid_sessions, NULL, first_at, NULL,
  NULL, NULL, NULL, codes
FROM wrong_source
UNION ALL
SELECT 'CA907', principal, access_key_id, failures, NULL, skew, first_at, NULL,
  NULL, NULL, NULL, codes
FROM rejected_groups WHERE cause = 'CA907'
ORDER BY code, access_key_id
"""

# Spark's to_timestamp needs its literals quoted; sqlglot maps the letters but not the quotes.
_SPARK_TIME = {
    "%Y-%m-%dT%H:%M:%SZ": "yyyy-MM-dd'T'HH:mm:ss'Z'",
    "%d/%b/%Y:%H:%M:%S": "dd/MMM/yyyy:HH:mm:ss",
    "%Y%m%dT%H%M%SZ": "yyyyMMdd'T'HHmmss'Z'",
    "%b %d %Y %I:%M:%S %p": "MMM d yyyy h:mm:ss a",
}

_ATHENA_DDL = """-- The tables as the AWS docs define them (create once; adjust LOCATION, range):
-- CREATE EXTERNAL TABLE {cloudtrail} (
--   eventversion STRING, useridentity STRUCT<type: STRING, principalid: STRING, arn: STRING,
--     accountid: STRING, invokedby: STRING, accesskeyid: STRING, username: STRING,
--     sessioncontext: STRUCT<attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>,
--     sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING,
--     username: STRING>>>,
--   eventtime STRING, eventsource STRING, eventname STRING, awsregion STRING,
--   sourceipaddress STRING, useragent STRING, errorcode STRING, errormessage STRING,
--   requestparameters STRING, responseelements STRING, requestid STRING, eventid STRING)
-- PARTITIONED BY (timestamp STRING)
-- ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
-- STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
--   OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
-- LOCATION 's3://BUCKET/AWSLogs/ACCOUNT/CloudTrail/REGION'
-- TBLPROPERTIES ('projection.enabled'='true', 'projection.timestamp.type'='date',
--   'projection.timestamp.format'='yyyy/MM/dd', 'projection.timestamp.interval'='1',
--   'projection.timestamp.interval.unit'='DAYS', 'projection.timestamp.range'='2024/01/01,NOW',
--   'storage.location.template'='s3://BUCKET/AWSLogs/ACCOUNT/CloudTrail/REGION/${{timestamp}}');
-- CREATE EXTERNAL TABLE {s3} ({s3_columns})
-- ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
-- WITH SERDEPROPERTIES ('input.regex'='{regex}')
-- LOCATION 's3://LOG-BUCKET/PREFIX/';
-- Add `AND timestamp BETWEEN '2026/04/14' AND '2026/04/16'` to prune CloudTrail partitions.
"""


# "Signature expired: X is now earlier than Y (Z - 5 min.)": X and Z, as errors.py reads them.
# Brackets rather than backslashes: Spark SQL unescapes backslashes in string literals.
_SIGNATURE_EXPIRED = (
    "Signature expired: ([0-9]{8}T[0-9]{6}Z) is now earlier than [0-9]{8}T[0-9]{6}Z "
    "[(]([0-9]{8}T[0-9]{6}Z) - 5 min[.][)]"
)


def _codes(codes: Iterable[str]) -> str:
    return ", ".join(f"'{c}'" for c in sorted(codes))


def query(cloudtrail_table: str = "cloudtrail_logs", s3_table: str = "s3_access_logs") -> str:
    """The analysis in DuckDB's dialect, over the named tables."""
    for name in (cloudtrail_table, s3_table):
        if not name.replace("_", "").replace(".", "").isalnum():
            raise InputError(f"{name!r}: not a table name")
    return (
        ANALYSIS.replace("{cloudtrail}", cloudtrail_table)
        .replace("{s3}", s3_table)
        .replace("{signature_expired}", _SIGNATURE_EXPIRED)
        .replace("{rejection_codes}", _codes(WRONG_SOURCE | SKEW | {"SignatureDoesNotMatch"}))
        .replace("{skew_codes}", _codes(SKEW))
        .strip()
    )


def transpile(
    dialect: str, cloudtrail_table: str = "cloudtrail_logs", s3_table: str = "s3_access_logs"
) -> str:
    """The analysis in ``dialect`` (athena, trino, spark or duckdb)."""
    try:
        import sqlglot
        from sqlglot import exp
    except ImportError:
        raise InputError("--sql needs sqlglot: pip install 'credaudit[sql]'") from None
    text = query(cloudtrail_table, s3_table)
    if dialect == "duckdb":
        return text
    tree: Any = sqlglot.parse_one(text, read="duckdb")
    if dialect == "spark":
        for node in tree.find_all(exp.StrToTime):
            node.set("format", exp.Literal.string(_SPARK_TIME[node.args["format"].name]))
    return str(tree.sql(dialect=dialect, pretty=True))


def render(dialect: str, *, cloudtrail_table: str, s3_table: str) -> str:
    body = transpile(dialect, cloudtrail_table, s3_table)
    head = (
        f"-- credaudit incident --sql {dialect}: CA901, CA902, CA903, CA905, CA906 and CA907 from "
        "CloudTrail and S3 access logs\n"
    )
    if dialect == "athena":
        head += _ATHENA_DDL.format(
            cloudtrail=cloudtrail_table,
            s3=s3_table,
            s3_columns=", ".join(f"{c} STRING" for c in S3_COLUMNS),
            regex=S3_REGEX.replace("'", "\\'"),
        )
    return head + body.rstrip(";\n") + ";\n"
