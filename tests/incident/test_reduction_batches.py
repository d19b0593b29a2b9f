"""How the embedded engine batches its summaries never changes the answer."""

from __future__ import annotations

import pickle

import pytest

from credaudit.incident import embedded
from credaudit.incident.collect import Seen
from credaudit.incident.files import walk
from credaudit.report import incident_json
from tests.incident.scenarios import Scenario
from tests.incident.test_scenarios import run


@pytest.mark.parametrize("every", [1, 2])
def test_summarising_every_few_files_gives_the_same_report(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch, every: int
) -> None:
    whole = incident_json.render(run(scenario.root))
    monkeypatch.setattr(embedded, "SUMMARY_FILES", every)
    assert incident_json.render(run(scenario.root)) == whole


def test_batches_cover_every_file_in_order() -> None:
    paths = [f"f{i}" for i in range(10)]
    sizes = [5, 1, 1, 1, 9, 0, 3, 3, 3, 3]
    batches = embedded._batches(paths, sizes, 6)
    assert [p for batch in batches for p in batch] == paths
    assert batches == [["f0", "f1"], ["f2", "f3", "f4"], ["f5", "f6", "f7"], ["f8", "f9"]]


def test_a_part_survives_pickling_whole(scenario: Scenario) -> None:
    # The pool and Spark ship parts between processes.
    acc = embedded.reduce_files(walk([str(scenario.root)]), embedded.Options())
    back = pickle.loads(pickle.dumps(acc))
    assert back == acc
    assert all(isinstance(s, Seen) for s in back.by_key.values())


def test_a_stated_expiry_a_session_has_is_dropped_in_any_order() -> None:
    """The reduction keeps a log's stated expiry only while no session has it: stated before
    or after the minting, in one part or in two merged either way, the analysis sees the same."""
    from datetime import UTC, datetime

    from credaudit.incident.analyze import analyze
    from credaudit.incident.collect import Accumulator
    from credaudit.incident.events import Session, Use

    minted_at = datetime(2026, 4, 15, 9, tzinfo=UTC)
    expiry = datetime(2026, 4, 15, 10, tzinfo=UTC)
    other = datetime(2026, 4, 15, 11, tzinfo=UTC)
    session = Session(
        key="ASIAQXAMPLE000000001",
        principal="arn:aws:iam::1:role/r",
        origin="ct",
        minted_at=minted_at,
        expires_at=expiry,
    )

    def stated(at_minute: int, until: datetime) -> Use:
        return Use(
            at=minted_at.replace(minute=at_minute),
            origin=f"app:{at_minute}",
            source="app",
            stated_expiry=until,
            subject="worker",
        )

    def part(*events: object) -> Accumulator:
        return Accumulator().add_all(events).compact()  # type: ignore[arg-type]

    before = part(stated(1, expiry), stated(2, other), session)
    after = part(session, stated(1, expiry), stated(2, other))
    assert set(before.stated) == set(after.stated) == {("worker", other)}
    assert before.records == after.records == {"app": 2}
    one = part(stated(1, expiry), stated(2, other)).merge(part(session))
    two = part(session).merge(part(stated(1, expiry), stated(2, other)))
    assert set(one.stated) == set(two.stated) == {("worker", other)}
    views = [[(s.how, s.expires_at) for s in analyze(acc).sessions] for acc in (before, one, two)]
    assert views[0] == views[1] == views[2] == [("minted", expiry), ("stated", other)]
