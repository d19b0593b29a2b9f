"""Who a session belongs to, in one spelling whatever the log wrote.

A role session appears as the role (``arn:aws:iam::1:role/path/Name`` in AssumeRole's
``roleArn``) and as the assumed-role user (``arn:aws:sts::1:assumed-role/Name/session`` as an S3
requester or a CloudTrail caller); the principal of both is ``arn:aws:iam::1:role/Name`` (the
assumed-role ARN drops the role's path, so the path is dropped here too).
"""

from __future__ import annotations


def principal_of(arn: str | None) -> str | None:
    if not arn or not arn.startswith("arn:"):
        return arn
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return arn
    partition, service, account, resource = parts[1], parts[2], parts[4], parts[5]
    if service == "sts" and resource.startswith("assumed-role/"):
        role = resource.split("/")[1]
        return f"arn:{partition}:iam::{account}:role/{role}"
    if service == "iam" and resource.startswith("role/"):
        return f"arn:{partition}:iam::{account}:role/{resource.rsplit('/', 1)[-1]}"
    return arn
