"""The pre-deploy policy file: where it is, what it may say, and one clear line when it is wrong.

A policy is ``credaudit.toml`` or the ``[tool.credaudit]`` table of ``pyproject.toml``, found by
walking up from the working directory (as ruff and pytest find theirs) so that ``credaudit
check`` in any sub-directory of a repository judges the same workloads.  It is read with
``tomllib`` and validated by pydantic models that forbid unknown keys: a typo in a budget key
must fail the gate, not silently drop the budget to zero.  Every error becomes one line,
``FILE:LINE: key.path: problem``, raised as ``InputError`` so the CLI exits 2.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from credaudit.analysis.budget import Budget
from credaudit.analysis.rules import RULES
from credaudit.durations import MAX_DURATION, DurationError, parse_duration
from credaudit.errors import InputError
from credaudit.model import SCHEMA_VERSION, BudgetView, Finding, Instant, Severity, Summary

POLICY_FILE = "credaudit.toml"
PYPROJECT = "pyproject.toml"

SOURCES = (
    "env",
    "assume-role",
    "sso",
    "web-identity",
    "pod-identity",
    "ecs-task",
    "instance-profile",
    "lambda",
    "process",
)
SourceName = Literal[
    "env",
    "assume-role",
    "sso",
    "web-identity",
    "pod-identity",
    "ecs-task",
    "instance-profile",
    "lambda",
    "process",
]

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
_ACCOUNT = re.compile(r"^\d{12}$")


def _to_duration(value: Any) -> timedelta:
    """Durations are human strings (``2h30m``, ``PT1H``) or plain seconds; never negative."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '15m' or a number of seconds")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"not a duration: {value}")
        if value < 0:
            raise ValueError(f"must not be negative (got {value})")
        if value > MAX_DURATION.total_seconds():
            raise ValueError(f"duration too long: {value} (at most 3650 days)")
        return timedelta(seconds=value)
    if isinstance(value, str):
        if value.strip().startswith("-"):
            raise ValueError(f"must not be negative (got {value!r})")
        try:
            return parse_duration(value)
        except DurationError as exc:
            raise ValueError(str(exc)) from None
    raise ValueError("expected a duration such as '15m' or a number of seconds")


Duration = Annotated[timedelta, BeforeValidator(_to_duration)]


def _account(value: str | None) -> str | None:
    if value is not None and not _ACCOUNT.match(value):
        raise ValueError(f"not a 12-digit account id: {value!r}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retries(_Strict):
    """Retries that re-send a signed request: ``attempts`` tries, backoff doubling each time."""

    attempts: StrictInt = Field(ge=0, le=100)
    backoff: Duration = timedelta(seconds=1)

    @property
    def total(self) -> timedelta:
        # Exponential backoff as the SDKs do it: backoff, 2*backoff, 4*backoff, ...
        return self.backoff * ((1 << self.attempts) - 1)


class Suppression(_Strict):
    code: str
    reason: str = Field(min_length=1)
    until: date | None = None

    @field_validator("code")
    @classmethod
    def _known_code(cls, value: str) -> str:
        if value.upper() not in RULES:
            raise ValueError(f"unknown finding code {value!r} (see `credaudit rules`)")
        return value.upper()

    @field_validator("reason")
    @classmethod
    def _real_reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a suppression needs a reason")
        return value.strip()


class Defaults(_Strict):
    skew_margin: Duration = timedelta(0)
    min_remaining: Duration = timedelta(minutes=15)
    fail_on: Severity | None = None
    expected_account: str | None = None

    _check_account = field_validator("expected_account")(_account)


_SOURCE_PARAMS = {
    # parameter -> the sources it means something for
    "role_arn": {
        "assume-role",
        "web-identity",
        "pod-identity",
        "ecs-task",
        "instance-profile",
        "lambda",
        "sso",
    },
    "chained": {"assume-role"},
    "mfa": {"assume-role"},
}


class Workload(_Strict):
    name: str = Field(min_length=1)
    profile: str | None = None
    source: SourceName | None = None
    role_arn: str | None = None
    duration: Duration | None = None
    chained: StrictBool = False
    mfa: StrictBool = False
    max_session_duration: Duration | None = None
    run_time: Duration = timedelta(0)
    queue_dwell: Duration = timedelta(0)
    signing_delay: Duration = timedelta(0)
    retries: Retries | None = None
    retry_budget: Duration | None = None
    url_ttl: Duration = timedelta(0)
    expected_account: str | None = None
    ignore: list[Suppression] = Field(default_factory=list)

    _check_account = field_validator("expected_account")(_account)

    @field_validator("role_arn")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.match(value):
            raise ValueError(f"not an IAM role ARN: {value!r}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Workload:
        if (self.profile is None) == (self.source is None):
            raise ValueError("give either profile or source (exactly one)")
        if self.retries is not None and self.retry_budget is not None:
            raise ValueError("give retries or retry_budget, not both")
        if self.profile is not None:
            for key in ("role_arn", "duration", "chained", "mfa"):
                if key in self.model_fields_set:
                    raise ValueError(f"{key} comes from the profile; remove it or use source")
        else:
            for key, allowed in _SOURCE_PARAMS.items():
                if key in self.model_fields_set and self.source not in allowed:
                    raise ValueError(f"{key} does not apply to source {self.source!r}")
        return self

    @property
    def retry_total(self) -> timedelta:
        if self.retries is not None:
            return self.retries.total
        return self.retry_budget or timedelta(0)

    def budget(self, defaults: Defaults) -> Budget:
        return Budget(
            run_time=self.run_time,
            queue_dwell=self.queue_dwell,
            signing_delay=self.signing_delay,
            retry_budget=self.retry_total,
            url_ttl=self.url_ttl,
            min_remaining=defaults.min_remaining,
            skew_margin=defaults.skew_margin,
        )


class Policy(_Strict):
    defaults: Defaults = Field(default_factory=Defaults)
    workload: list[Workload] = Field(min_length=1)


class WorkloadView(BaseModel):
    name: str
    source: str
    origin: str
    role_arn: str | None
    session_seconds: int | None = Field(description="life of one credential set, when known")
    refreshable: bool
    budget: BudgetView
    line: int | None
    suppressed: list[str] = Field(default_factory=list)


class CheckReport(BaseModel):
    schema_version: str = SCHEMA_VERSION
    kind: Literal["check"] = "check"
    evaluated_at: Instant
    policy: str
    workloads: list[WorkloadView]
    findings: list[Finding]
    notes: list[str] = Field(default_factory=list)
    summary: Summary

    def subjects(self) -> list[str]:
        """One JUnit test case per workload."""
        return [w.name for w in self.workloads]


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy and where it came from (to locate findings at its lines)."""

    path: Path
    policy: Policy
    text: str
    prefix: tuple[str, ...]  # ("tool", "credaudit") inside pyproject.toml, () otherwise

    def workload_line(self, index: int) -> int | None:
        return section_line(self.text, (*self.prefix, "workload"), index, array=True)


def find_policy(start: Path) -> Path | None:
    """The nearest credaudit.toml, or pyproject.toml with [tool.credaudit], from start upward."""
    for directory in (start, *start.parents):
        candidate = directory / POLICY_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return pyproject  # let load_policy report what is wrong with it
            tool = data.get("tool")
            if isinstance(tool, dict) and "credaudit" in tool:
                return pyproject
    return None


def load_policy(path: Path | None, cwd: Path) -> LoadedPolicy:
    """Read and validate the policy (``path``, else the nearest one); InputError otherwise."""
    if path is None:
        path = find_policy(cwd)
        if path is None:
            raise InputError(
                f"{cwd}: no {POLICY_FILE} or [tool.credaudit] in {PYPROJECT} here or in any "
                "parent directory (give one with --policy FILE)"
            )
    shown = display_path(path, cwd)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{shown}: is a directory") from None
    except UnicodeDecodeError:
        raise InputError(f"{shown}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or type(exc).__name__})") from None
    return parse_policy(text, Path(shown), pyproject=path.name == PYPROJECT)


def parse_policy(text: str, path: Path, *, pyproject: bool = False) -> LoadedPolicy:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(_toml_error(path, exc)) from None
    prefix: tuple[str, ...] = ()
    if pyproject:
        prefix = ("tool", "credaudit")
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or not isinstance(tool.get("credaudit"), dict):
            raise InputError(f"{path}: tool.credaudit: missing table [tool.credaudit]")
        data = tool["credaudit"]
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise InputError(_validation_error(path, text, prefix, exc)) from None
    loaded = LoadedPolicy(path=path, policy=policy, text=text, prefix=prefix)
    seen: set[str] = set()
    for index, workload in enumerate(policy.workload):
        if workload.name in seen:
            # Names are the subjects of findings and JUnit cases: two alike would merge them.
            line = _line_of(text, prefix, ("workload", index, "name"))
            dotted = ".".join((*prefix, "workload", str(index), "name"))
            raise InputError(
                f"{path}:{line}: {dotted}: workload name {workload.name!r} is used twice"
            )
        seen.add(workload.name)
    return loaded


def display_path(path: Path, cwd: Path) -> str:
    """The path relative to the working directory when it is inside it (for CI annotations)."""
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return str(path)


def _toml_error(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    match = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
    if match:
        return f"{path}:{match.group(1)}: invalid TOML: {message[: match.start()]}"
    return f"{path}: invalid TOML: {message}"


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "too_short": "must not be empty",
    "bool_type": "expected true or false",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "string_type": "expected a string",
    "list_type": "expected an array",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "date_type": "expected a date such as 2027-01-31",
    "date_from_datetime_parsing": "expected a date such as 2027-01-31",
    "date_parsing": "expected a date such as 2027-01-31",
}


def _validation_error(path: Path, text: str, prefix: tuple[str, ...], exc: ValidationError) -> str:
    """The first pydantic error as one line: file, line (when found), dotted key, problem."""
    errors = exc.errors(include_url=False)
    # An unknown key is usually a misspelt one, and explains a "missing" error elsewhere.
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "value_error":
        problem = str(error["msg"]).removeprefix("Value error, ")
    elif kind in ("too_short", "string_too_short") and loc and loc[-1] == "reason":
        problem = "a suppression needs a reason"
    elif kind == "too_short" and loc == ("workload",):
        problem = "at least one [[workload]] is required"
    elif kind == "literal_error" and loc and loc[-1] == "source":
        problem = f"unknown source {error['input']!r} (one of: {', '.join(SOURCES)})"
    elif kind == "enum" and loc and loc[-1] == "fail_on":
        problem = f"unknown severity {error['input']!r} (one of: {', '.join(Severity)})"
    elif kind in ("greater_than_equal", "less_than_equal"):
        problem = str(error["msg"]).replace("Input should be", "must be")
    else:
        problem = _MESSAGES.get(kind, str(error["msg"]))
    if kind == "missing" and loc and loc[-1] == "reason":
        problem = "a suppression needs a reason"
    dotted = ".".join(str(part) for part in (*prefix, *loc)) or "(top level)"
    line = _line_of(text, prefix, loc)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {dotted}: {problem}"


def _line_of(text: str, prefix: tuple[str, ...], loc: tuple[int | str, ...]) -> int | None:
    """Best-effort line of a key path: its table header, then the key inside that table."""
    if not loc:
        return None
    head = loc[0]
    if head == "workload" and len(loc) >= 2 and isinstance(loc[1], int):
        start = section_line(text, (*prefix, "workload"), loc[1], array=True)
        if start is None:  # workload = [...] written inline
            return _top_key_line(text, prefix, "workload")
        rest = loc[2:]
    elif head == "defaults":
        start = section_line(text, (*prefix, "defaults"), 0, array=False)
        rest = loc[1:]
    else:
        start = section_line(text, (*prefix, str(head)), 0, array=head == "workload")
        return start or _top_key_line(text, prefix, str(head))
    if start is None:
        return None
    if rest and isinstance(rest[0], str):
        return _key_line(text, start + 1, rest[0]) or start
    return start


def _top_key_line(text: str, prefix: tuple[str, ...], key: str) -> int | None:
    """A key of the policy's top table: before any header, or after ``[tool.credaudit]``."""
    start = section_line(text, prefix, 0, array=False) if prefix else 0
    return None if start is None else _key_line(text, start + 1, key)


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def section_line(text: str, table: tuple[str, ...], index: int, *, array: bool) -> int | None:
    """The line of the ``index``-th ``[[table]]`` (or of ``[table]``); tomllib gives none."""
    wanted = ".".join(table)
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        match = _HEADER.match(line)
        if not match:
            continue
        is_array = match.group(1) == "[["
        name = re.sub(r"\s*\.\s*", ".", match.group(2)).replace('"', "")
        if name == wanted and is_array == array:
            if seen == index:
                return number
            seen += 1
    return None


def _key_line(text: str, start: int, key: str) -> int | None:
    """The line of ``key = ...`` from line ``start`` up to the next table header."""
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    lines = text.splitlines()
    for number in range(start, len(lines) + 1):
        line = lines[number - 1]
        if _HEADER.match(line):
            return None
        if pattern.match(line):
            return number
    return None
