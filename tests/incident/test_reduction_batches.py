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
