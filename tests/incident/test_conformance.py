"""The real samples in ../shared/conformance/logs parse as their README says."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from credaudit.incident.events import Activity, Session, Unreadable, Use
from credaudit.incident.files import detect, load, read_file

LOGS = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance" / "logs"
CLOUDTRAIL = LOGS / "cloudtrail"


def _events(path: Path) -> list[object]:
    return list(read_file(str(path)))


def _data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.endswith((".source.json", ".md")))


def test_six_cloudtrail_records_each_one_use() -> None:
    files = _data_files(CLOUDTRAIL)
    assert len(files) == 6
    for path in files:
        assert detect(load(str(path))[0]) == "cloudtrail"
        events = _events(path)
        assert not [e for e in events if isinstance(e, Unreadable)]
        # one record: a failing one is a Use, a successful one a one-call Activity
        records = [e for e in events if isinstance(e, Use)]
        records += [e for e in events if isinstance(e, Activity) and e.count == 1]
        assert len(records) == 1


@pytest.mark.parametrize(
    ("name", "code", "operation"),
    [
        (
            "panther-analysis__aws_iam_assume_role_blocklist_ignored__Error_Assuming_IAM_Blocked_Role.json",
            "ExpiredToken",
            "AssumeRole",
        ),
        (
            "panther-analysis__aws_ec2_gateway_modified__Error_Modifying_Network_Gateway.json",
            "RequestExpired",
            "AttachInternetGateway",
        ),
        (
            "panther-analysis__aws_ec2_security_group_modified__Error_Mofidying_Security_Group.json",
            "RequestExpired",
            "AuthorizeSecurityGroupIngress",
        ),
    ],
)
def test_panther_error_records(name: str, code: str, operation: str) -> None:
    events = _events(CLOUDTRAIL / name)
    use = next(e for e in events if isinstance(e, Use))
    assert (use.error, use.operation) == (code, operation)
    assert use.at == datetime(2019, 1, 1, tzinfo=UTC)
    # A failed AssumeRole mints nothing, even though the test record carries credentials.
    assert not [e for e in events if isinstance(e, Session)]


@pytest.mark.parametrize(
    ("line", "key", "expires", "minted"),
    [
        (
            128,
            "AKIAQRSTUVWXYZEXAMPLE",
            datetime(2023, 7, 18, 16, 7, 39, tzinfo=UTC),
            datetime(2014, 7, 18, 15, 7, 39, tzinfo=UTC),
        ),
        (
            180,
            "AKIAQRSTUVWXYZEXAMPLE",
            datetime(2014, 7, 18, 16, 7, 39, tzinfo=UTC),
            datetime(2014, 7, 18, 15, 7, 39, tzinfo=UTC),
        ),
        (
            222,
            "ASIAWHOJDLGPOEXAMPLE",
            datetime(2019, 10, 2, 23, 12, 29, tzinfo=UTC),
            datetime(2019, 10, 2, 22, 12, 29, tzinfo=UTC),
        ),
    ],
)
def test_docs_assume_role_mints_a_session(
    line: int, key: str, expires: datetime, minted: datetime
) -> None:
    path = (
        CLOUDTRAIL / f"awsdocs-iam-user-guide__cloudtrail-integration__line{line}__AssumeRole.json"
    )
    sessions = [e for e in _events(path) if isinstance(e, Session)]
    assert len(sessions) == 1
    s = sessions[0]
    assert (s.key, s.expires_at, s.minted_at) == (key, expires, minted)
    assert s.principal.startswith("arn:aws:iam::") and ":role/" in s.principal
    assert s.arn and ":assumed-role/" in s.arn


def test_s3_example_five_records_one_error() -> None:
    path = LOGS / "s3_access" / "awsdocs__LogFormat__example.log"
    assert detect(load(str(path))[0]) == "s3-access"
    events = _events(path)
    assert not [e for e in events if isinstance(e, Unreadable)]
    uses = [e for e in events if isinstance(e, Use)]
    quiet = [e for e in events if isinstance(e, Activity)]
    assert len(uses) + sum(a.count for a in quiet) == 5
    [failed] = uses
    assert (failed.error, failed.operation, failed.request_id) == (
        "NoSuchBucketPolicy",
        "REST.GET.BUCKETPOLICY",
        "A1206F460EXAMPLE",
    )
    assert failed.at == datetime(2019, 2, 6, 0, 0, 38, tzinfo=UTC)
    [activity] = quiet  # one requester (a canonical user id, not an ARN)
    assert activity.arn is None and activity.count == 4
    assert activity.first == datetime(2019, 2, 6, 0, 0, 38, tzinfo=UTC)
    assert activity.last == datetime(2019, 2, 6, 0, 1, 57, tzinfo=UTC)


def test_lookup_events_output_shape(tmp_path: Path) -> None:
    """``aws cloudtrail lookup-events`` wraps each record as a JSON string."""
    record = CLOUDTRAIL / "awsdocs-iam-user-guide__cloudtrail-integration__line222__AssumeRole.json"
    import json

    doc = {
        "Events": [
            {
                "EventId": "x",
                "EventName": "AssumeRole",
                "CloudTrailEvent": json.dumps(json.loads(record.read_text())),
            },
            {"EventId": "y", "CloudTrailEvent": "{broken"},
        ]
    }
    path = tmp_path / "lookup.json"
    path.write_text(json.dumps(doc, indent=2))
    assert detect(path.read_bytes()) == "cloudtrail"
    events = _events(path)
    [session] = [e for e in events if isinstance(e, Session)]
    assert session.key == "ASIAWHOJDLGPOEXAMPLE"
    assert session.expires_at == datetime(2019, 10, 2, 23, 12, 29, tzinfo=UTC)
    [bad] = [e for e in events if isinstance(e, Unreadable)]
    assert bad.origin.endswith("#Events[1]")
