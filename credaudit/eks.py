"""What an EKS bearer token is, for the two readers of it: ``credaudit url`` (the presigned
URL inside, ``credaudit.presign.parse``) and ``credaudit token`` (its times).  A module of its
own so that ``credaudit token`` can recognise one without importing the presign package at
start-up.

An EKS token is this prefix and a presigned STS GetCallerIdentity URL, base64url without
padding.  Its X-Amz-Expires (60) "IS IGNORED": "presigned STS urls are valid for 15 minutes
after timestamp in x-amz-date" (kubernetes-sigs/aws-iam-authenticator, pkg/token/token.go; the
AWS CLI's ``eks get-token`` reports 14 minutes, to be early).
"""

from __future__ import annotations

from datetime import timedelta

EKS_TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 (a format prefix, not a secret)
EKS_TOKEN_LIFETIME = timedelta(minutes=15)
