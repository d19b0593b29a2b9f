"""Token files ``scan`` already reads — web-identity token files, the container authorization
token file — judged by the same code as ``credaudit token``, so both say the same thing.

A source hands over the token it has just read (it is never stored) and gets back Problems
with the token command's codes and messages; scan's analysis turns Problems into findings
like any other.  Only what the scan does not already say is returned: the web-identity
token's expiry and missing ``exp`` are CA108 and CA702 there, with the kubelet's rotation
rule, so they are not repeated.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from credaudit.model import Problem
from credaudit.tokens.analyze import Context, judge
from credaudit.tokens.jwt_segments import looks_like_jwt
from credaudit.tokens.readers import Candidate

# What each scanned file adds to scan's own findings.
WEB_IDENTITY_CODES = frozenset({"CA803", "CA806"})
CONTAINER_TOKEN_CODES = frozenset({"CA801", "CA803", "CA804", "CA806"})


def token_file_problems(
    token: str, where: str, now: datetime, codes: Collection[str]
) -> tuple[Problem, ...]:
    """The token command's findings about a JWT read from ``where``, as Problems; nothing
    for an opaque token (an ECS task's authorization token has no inside to judge)."""
    from credaudit.tokens import DEFAULT_BUDGET

    text = token.strip()
    if not looks_like_jwt(text):
        return ()
    record = judge(Candidate(found_in=where, token=text), Context(now=now, budget=DEFAULT_BUDGET))
    return tuple(
        Problem(code=f.code, message=f"{where}: {f.message}")
        for f in record.findings
        if f.code in codes
    )
