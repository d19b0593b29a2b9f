"""The policy file: discovery, and one exact line per kind of mistake (tests/policy_cases/bad)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credaudit.errors import InputError
from credaudit.policy import find_policy, load_policy, parse_policy, section_line

CASES = Path(__file__).parent / "policy_cases"
BAD = sorted((CASES / "bad").glob("*.toml"))


def expected_message(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} lacks its '# expect:' line"
    return first.removeprefix("# expect: ")


def test_at_least_twenty_bad_cases() -> None:
    assert len(BAD) >= 20


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_policy_gives_its_exact_line(path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_policy(path, cwd=path.parent)
    message = str(caught.value)
    assert "\n" not in message
    assert message == expected_message(path)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


GOOD = '[[workload]]\nname = "a"\nsource = "env"\nrun_time = "2h"\n'


def test_found_by_walking_up(tmp_path: Path) -> None:
    policy = write(tmp_path, "credaudit.toml", GOOD)
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    assert find_policy(deep) == policy
    loaded = load_policy(None, cwd=deep)
    assert loaded.policy.workload[0].run_time == timedelta(hours=2)


def test_pyproject_without_table_is_skipped(tmp_path: Path) -> None:
    policy = write(tmp_path, "credaudit.toml", GOOD)
    write(tmp_path / "sub", "pyproject.toml", '[project]\nname = "x"\n')
    assert find_policy(tmp_path / "sub") == policy


def test_pyproject_tool_table(tmp_path: Path) -> None:
    text = '[project]\nname = "x"\n\n[[tool.credaudit.workload]]\nname = "a"\nsource = "lambda"\nurl_ttl = "6h"\n'
    path = write(tmp_path, "pyproject.toml", text)
    assert find_policy(tmp_path) == path
    loaded = load_policy(None, cwd=tmp_path)
    assert loaded.prefix == ("tool", "credaudit")
    assert loaded.workload_line(0) == 4


def test_pyproject_error_names_the_full_key_path(tmp_path: Path) -> None:
    text = '[tool.credaudit.defaults]\nskew_margin = "soon"\n\n[[tool.credaudit.workload]]\nname = "a"\nsource = "env"\n'
    write(tmp_path, "pyproject.toml", text)
    with pytest.raises(InputError) as caught:
        load_policy(None, cwd=tmp_path)
    assert str(caught.value) == (
        "pyproject.toml:2: tool.credaudit.defaults.skew_margin: not a duration: 'soon' "
        "(try 90s, 15m, 2h30m, 1d or PT1H)"
    )


def test_no_policy_anywhere(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no credaudit.toml or \[tool.credaudit\]"):
        load_policy(None, cwd=tmp_path)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_policy(tmp_path / "nope.toml", cwd=tmp_path)
    assert str(caught.value) == "nope.toml: no such file"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "credaudit.toml"
    path.write_bytes(b"\xff\xfe[[workload]]")
    with pytest.raises(InputError) as caught:
        load_policy(path, cwd=tmp_path)
    assert str(caught.value) == "credaudit.toml: not UTF-8 text"


def test_retries_total_is_exponential() -> None:
    loaded = parse_policy(
        '[[workload]]\nname = "a"\nsource = "ecs-task"\nretries = { attempts = 4, backoff = "2s" }\n',
        Path("p.toml"),
    )
    assert loaded.policy.workload[0].retry_total == timedelta(seconds=2 + 4 + 8 + 16)


def test_section_line_counts_array_tables_only() -> None:
    text = '[defaults]\n\n[[workload]]\nname="a"\n[workload_notes]\n[[ workload ]]\nname="b"\n'
    assert section_line(text, ("workload",), 0, array=True) == 3
    assert section_line(text, ("workload",), 1, array=True) == 6
    assert section_line(text, ("workload",), 2, array=True) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_policy_or_one_line_error(text: str) -> None:
    try:
        parse_policy(text, Path("fuzz.toml"))
    except InputError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith("fuzz.toml")


VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
KEYS = st.sampled_from(
    [
        "name",
        "source",
        "profile",
        "run_time",
        "queue_dwell",
        "duration",
        "retries",
        "retry_budget",
        "url_ttl",
        "mfa",
        "chained",
        "ignore",
        "expected_account",
        "role_arn",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_any_workload_values_are_valid_or_one_line(workload: dict[str, object]) -> None:
    import tomllib  # noqa: F401  (the data below is what tomllib could produce)

    from pydantic import ValidationError

    from credaudit.policy import Policy, _validation_error

    try:
        Policy.model_validate({"workload": [workload]})
    except ValidationError as exc:
        line = _validation_error(Path("f.toml"), "", (), exc)
        assert "\n" not in line and line.startswith("f.toml: workload")
