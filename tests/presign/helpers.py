"""boto3-generated URLs for the presign tests (boto3 is a real signer, not a mock)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from unittest import mock

import boto3
from botocore.config import Config

TEMP_KEY = "ASIAY34FZKBOKMUTVV7A"  # decodes to account 609629065308 (reference §6)
LONG_KEY = "AKIAY34FZKBOKMUTVV7A"


def presign(
    *,
    key: str = TEMP_KEY,
    secret: str = "secret/Key+x",
    token: str | None = "TOKEN-xyz",
    region: str = "us-east-1",
    bucket: str = "bkt",
    object_key: str = "a/b.txt",
    expires: int = 3600,
    style: str = "virtual",
    version: str = "s3v4",
    at: datetime | None = None,
    client_method: str = "get_object",
    endpoint_url: str | None = None,
    params: dict[str, Any] | None = None,
) -> str:
    session = boto3.session.Session(
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name=region,
    )
    client = session.client(
        "s3",
        config=Config(signature_version=version, s3={"addressing_style": style}),
        endpoint_url=endpoint_url,
    )
    call_params = params if params is not None else {"Bucket": bucket, "Key": object_key}
    if at is None:
        url: str = client.generate_presigned_url(
            client_method, Params=call_params, ExpiresIn=expires
        )
        return url
    naive = at.astimezone(UTC).replace(tzinfo=None)
    with (
        mock.patch("botocore.auth.get_current_datetime", return_value=naive),
        mock.patch("botocore.auth.time.time", return_value=at.timestamp()),
    ):
        url = client.generate_presigned_url(client_method, Params=call_params, ExpiresIn=expires)
    return url
