"""``credaudit incident``: ExpiredToken forensics from logs.

Readers (``readers/``) turn CloudTrail, S3 access, SDK debug and application logs into
normalised events; ``collect`` reduces them (memory grows with sessions and failures, not
records); ``analyze`` turns the reduction into sessions, findings CA901–CA908, a timeline and a
verdict.  Engines only differ in who runs the per-file reduction: this process and a process
pool (``embedded``), or Spark executors (``spark_engine``) — the same functions either way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from credaudit.incident.analyze import analyze
from credaudit.incident.collect import Accumulator
from credaudit.incident.embedded import Options
from credaudit.incident.files import in_window, walk
from credaudit.incident.model import IncidentReport, IncidentSummary
from credaudit.model import Severity


def select(paths: list[str], since: datetime | None, until: datetime | None) -> list[str]:
    """The files to read: walked, and pruned by CloudTrail's dated layout."""
    return [p for p in walk(paths) if in_window(p, since, until)]


def collect(
    paths: list[str],
    options: Options,
    *,
    engine: str = "embedded",
    jobs: int | None = None,
    spark_master: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Accumulator:
    files = select(paths, options.since, options.until)
    if engine == "spark":
        from credaudit.incident.spark_engine import run as run_spark

        return run_spark(files, options, master=spark_master or "local[*]")
    from credaudit.incident.embedded import run

    return run(files, options, jobs=jobs, progress=progress)


def report(
    acc: Accumulator, *, engine: str, inputs: list[str], fail_on: Severity
) -> IncidentReport:
    result = analyze(acc)
    severities = Counter(f.severity.value for f in result.findings)
    highest = max((f.severity for f in result.findings), key=lambda s: s.rank, default=None)
    return IncidentReport(
        engine=engine,
        inputs=inputs,
        sessions=result.sessions,
        uses=result.uses,
        findings=result.findings,
        timeline=result.timeline,
        verdict=result.verdict,
        summary=IncidentSummary(
            files=acc.files,
            records=dict(sorted(acc.records.items())),
            sessions=len(result.sessions),
            failures=result.failures,
            findings=len(result.findings),
            by_severity=dict(severities),
            highest=highest,
            fail_on=fail_on,
            failed=any(f.severity.at_least(fail_on) for f in result.findings),
        ),
    )
