"""The rule pages (docs/rules/CAxxx.md) and the `explain` / `rules` commands.

The pages are the long form of the catalogue, so the catalogue is the reference: every code
has a page with every section, every page belongs to a code, headings repeat the code's name
and severity, and the pages reach an installed wheel, not only a checkout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from credaudit import rule_pages
from credaudit.analysis.rules import RULES
from credaudit.cli import cli

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "rules"

SECTIONS = [
    "## What it does",
    "## Why it matters",
    "## Example",
    "## How to fix",
    "## The wrong fix",
    "## Default severity",
]

# The only access key ids a page may show: AWS's documentation examples.
ALLOWED_KEY_IDS = {"AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A"}


def _page(code: str) -> str:
    return (DOCS / f"{code}.md").read_text(encoding="utf-8")


def _sections(text: str) -> dict[str, str]:
    """Heading -> body, for the `## ` sections of a page."""
    parts = re.split(r"^(## .+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts), 2)}


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """A bare host: no AWS_* variables from this machine (it sets AWS_CA_BUNDLE)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp_path)
    return env


# -- the pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_code_has_a_page_with_every_section_in_order(code: str) -> None:
    text = _page(code)
    lines = text.splitlines()
    assert lines[0] == f"# {code} — {RULES[code].name}"
    assert lines[1] == ""
    summary = lines[2]
    assert summary and not summary.startswith("#"), f"{code}: no summary"
    assert lines[3] == "", f"{code}: the summary is more than one line"
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == SECTIONS, f"{code}: sections {headings}"
    for heading, body in _sections(text).items():
        assert len(body) > 20, f"{code}: {heading} is empty"


@pytest.mark.parametrize("code", sorted(RULES))
def test_default_severity_section_states_the_catalogue_severity(code: str) -> None:
    body = _sections(_page(code))["## Default severity"]
    assert body.startswith(f"`{RULES[code].severity.value}`"), f"{code}: {body[:40]!r}"


def _citations(source: str) -> list[str]:
    """What a page may quote to cite a rule's `source`: code names, files, documents."""
    found = re.findall(
        r"[A-Za-z_]+\.py|[A-Z][a-z]+[A-Z]\w+|_?[A-Z_]{6,}\w*|[a-z]+_[a-z_]+|#\d+|\b0[0-7]{3}\b",
        source,
    )
    found += [f"{doc} User Guide" for doc in re.findall(r"\b([A-Z0-9]{2,}) UG\b", source)]
    found += [f"{doc} API Reference" for doc in re.findall(r"\b([A-Z0-9]{2,}) API\b", source)]
    found += ["botocore/retries"] if "botocore retries" in source else []
    return found


@pytest.mark.parametrize("code", sorted(RULES))
def test_why_it_matters_cites_the_rules_source(code: str) -> None:
    """Each rule's `source` names a botocore function or AWS document; the page must cite it."""
    cited = _citations(RULES[code].source)
    assert cited, f"{code}: source {RULES[code].source!r} names nothing checkable"
    page = _page(code)
    assert any(name in page for name in cited), f"{code}: page cites none of {cited}"


def test_every_page_belongs_to_a_code() -> None:
    pages = sorted(p.stem for p in DOCS.glob("*.md") if p.name != "README.md")
    assert pages == sorted(RULES)
    assert rule_pages.page_codes() == sorted(RULES)


def test_index_links_every_code_with_its_severity() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for code, entry in RULES.items():
        row = f"| [{code}]({code}.md) | {entry.name} | {entry.severity.value} |"
        assert row in index, code


@pytest.mark.parametrize("code", sorted(RULES))
def test_pages_show_no_secrets_and_only_example_key_ids(code: str) -> None:
    text = _page(code)
    for key_id in re.findall(r"\b(?:AKIA|ASIA)[A-Z2-7]{16}\b", text):
        assert key_id in ALLOWED_KEY_IDS, f"{code}: real-looking key id {key_id}"
    # A secret access key is 40 base64 characters; a session token is hundreds.
    for blob in re.findall(r"[A-Za-z0-9/+=]{40,}", text):
        if not (re.search(r"[A-Z]", blob) and re.search(r"[a-z]", blob) and re.search(r"\d", blob)):
            continue  # a sha1 file name or a path, not key material
        assert blob == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", (
            f"{code}: secret-like {blob[:8]}…"
        )
    for name in ("X-Amz-Security-Token", "X-Amz-Signature", "AWS_SESSION_TOKEN"):
        for value in re.findall(rf"{name}=([^&\s']*)", text):
            assert value in ("...", ""), f"{code}: {name} has a value"


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        ("CA101", "AWS_CREDENTIAL_EXPIRATION"),
        ("CA106", "duration_seconds` to 900"),
        ("CA201", "Raising retries"),
    ],
)
def test_the_wrong_fix_names_the_tempting_fix(code: str, phrase: str) -> None:
    assert phrase in _sections(_page(code))["## The wrong fix"]


def test_pages_use_the_reference_constants() -> None:
    """The numbers the rules rest on (aws-credential-facts.md) are the ones the pages state."""
    assert "600 s" in _page("CA201") and "900 s" in _page("CA201")
    assert "DEFAULT_EXPIRY_WINDOW_SECONDS = 900" in _page("CA106")
    assert "create_mfa_serial_refresher" in _page("CA104")
    assert "80 percent" in _page("CA108") and "24 hours" in _page("CA108")
    assert "604800" in _page("CA305")
    assert "random.randint(120, 600)" in _page("CA503")


# -- lookup ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ca201", "CA201"), (" CA201 ", "CA201"), ("../CA201", None), ("CA2O1", None), ("", None)],
)
def test_normalize_code(raw: str, expected: str | None) -> None:
    assert rule_pages.normalize_code(raw) == expected


@settings(max_examples=300)
@given(st.text(max_size=30))
def test_read_page_of_any_text_never_raises_nor_escapes(raw: str) -> None:
    page = rule_pages.read_page(raw)
    if page is not None:
        code = rule_pages.normalize_code(raw)
        assert code in RULES
        assert page.startswith(f"# {code} ")


# -- explain -----------------------------------------------------------------------------------


def test_explain_prints_the_page() -> None:
    result = CliRunner().invoke(cli, ["explain", "CA201"])
    assert result.exit_code == 0, result.output
    assert result.stdout == _page("CA201").rstrip("\n") + "\n"


def test_explain_is_case_insensitive() -> None:
    result = CliRunner().invoke(cli, ["explain", "ca106"])
    assert result.exit_code == 0
    assert result.stdout.startswith("# CA106 — cache-never-reused\n")


@pytest.mark.parametrize("code", ["CA999", "bogus", "../../etc/passwd"])
def test_explain_unknown_code_is_one_line_and_exit_2(code: str) -> None:
    result = CliRunner().invoke(cli, ["explain", code])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert "credaudit rules" in lines[0]
    assert code.strip()[:40] in lines[0]


def test_explain_without_pages_falls_back_to_the_catalogue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A broken install (no packaged pages) still answers from the catalogue, exit 0."""
    monkeypatch.setattr(rule_pages, "pages_dir", lambda: tmp_path)
    result = CliRunner().invoke(cli, ["explain", "CA104"])
    assert result.exit_code == 0
    assert result.stdout.startswith("# CA104 — mfa-session-not-renewable")
    assert RULES["CA104"].fix in result.stdout
    assert "no page installed for CA104" in result.stderr


def test_python_dash_m_explain(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "credaudit", "explain", "ca201"],
        capture_output=True,
        text=True,
        env=_clean_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == _page("CA201").rstrip("\n") + "\n"
    assert proc.stderr == ""


def test_python_dash_m_explain_unknown_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "credaudit", "explain", "CA000"],
        capture_output=True,
        text=True,
        env=_clean_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1
    assert "CA000" in proc.stderr


# -- rules -------------------------------------------------------------------------------------


def test_rules_table_lists_every_code() -> None:
    result = CliRunner().invoke(cli, ["rules"])
    assert result.exit_code == 0
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert [row[0] for row in rows] == sorted(RULES)
    assert len(rows) == len(RULES)  # every branch adds its codes: no hard-coded count
    for row in rows:
        entry = RULES[row[0]]
        assert row[1:3] == [entry.name, entry.severity.value]


def test_rules_json_matches_the_catalogue() -> None:
    result = CliRunner().invoke(cli, ["rules", "--format", "json"])
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [item["code"] for item in listed] == sorted(RULES)
    for item in listed:
        entry = RULES[item["code"]]
        assert (item["name"], item["severity"], item["title"]) == (
            entry.name,
            entry.severity.value,
            entry.title,
        )


def test_rules_rejects_unknown_format() -> None:
    result = CliRunner().invoke(cli, ["rules", "--format", "xml"])
    assert result.exit_code == 2


# -- the wheel ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel once (hatchling from the venv: no registry needed)."""
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(out),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheels = list(out.glob("credaudit-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.mark.slow
def test_wheel_ships_every_rule_page(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "credaudit/_rule_pages/CA101.md" in names
        for code in RULES:
            member = f"credaudit/_rule_pages/{code}.md"
            assert member in names, member
            assert zf.read(member).decode("utf-8") == _page(code)


@pytest.mark.slow
def test_installed_wheel_explains_without_a_checkout(wheel: Path, tmp_path: Path) -> None:
    """Unpacked away from the repo, credaudit finds its pages in the package data."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    env = _clean_env(tmp_path)
    env["PYTHONPATH"] = str(site)
    probe = (
        "import credaudit.rule_pages as rp; print(rp.pages_dir()); "
        "print(rp.read_page('ca303').splitlines()[0])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    where, heading = proc.stdout.splitlines()
    assert Path(where) == site / "credaudit" / "_rule_pages"
    assert heading == "# CA303 — url-expired"


# -- the pages' claims, checked against the installed botocore ---------------------------------


def test_refresh_windows_and_cache_window_are_what_the_pages_say() -> None:
    from botocore import credentials

    assert credentials._DEFAULT_MANDATORY_REFRESH_TIMEOUT == 600  # CA201, CA104
    assert credentials._DEFAULT_ADVISORY_REFRESH_TIMEOUT == 900
    assert credentials.CachedCredentialFetcher.DEFAULT_EXPIRY_WINDOW_SECONDS == 900  # CA106


def test_mfa_refresher_refuses_the_second_refresh() -> None:
    """CA104: the first refresh works, every later one raises before any request is sent."""
    from botocore.credentials import create_mfa_serial_refresher
    from botocore.exceptions import RefreshWithMFAUnsupportedError

    calls: list[int] = []

    def assume_role() -> dict[str, bool]:
        calls.append(1)
        return {"ok": True}

    refresher = create_mfa_serial_refresher(assume_role)
    assert refresher() == {"ok": True}
    with pytest.raises(RefreshWithMFAUnsupportedError):
        refresher()
    assert len(calls) == 1


def test_a_900_second_session_refreshes_on_every_read() -> None:
    """CA106: a 900 s session lives inside the advisory window, so every read refreshes."""
    from datetime import UTC, datetime, timedelta

    from botocore.credentials import RefreshableCredentials

    refreshes: list[int] = []

    def refresh() -> dict[str, str]:
        refreshes.append(1)
        expiry = datetime.now(UTC) + timedelta(seconds=900)
        return {
            "access_key": "A",
            "secret_key": "S",
            "token": "T",
            "expiry_time": expiry.isoformat(),
        }

    creds = RefreshableCredentials.create_from_metadata(refresh(), refresh, "test")
    refreshes.clear()
    for _ in range(5):
        creds.get_frozen_credentials()
    assert len(refreshes) == 5


def test_env_credentials_past_expiry_raise_still_expired() -> None:
    """CA101/CA102: AWS_CREDENTIAL_EXPIRATION makes env keys 'refreshable' in name only."""
    from botocore.credentials import EnvProvider

    env = {
        "AWS_ACCESS_KEY_ID": "ASIAY34FZKBOKMUTVV7A",
        "AWS_SECRET_ACCESS_KEY": "not-a-secret",
        "AWS_SESSION_TOKEN": "not-a-token",
        "AWS_CREDENTIAL_EXPIRATION": "2020-01-01T00:00:00+00:00",
    }
    creds = EnvProvider(environ=env).load()
    with pytest.raises(RuntimeError, match="still expired"):
        creds.get_frozen_credentials()


def test_sts_duration_bounds_and_container_hosts_match_the_pages() -> None:
    import botocore.session
    from botocore.utils import ContainerMetadataFetcher

    loader = botocore.session.get_session().get_component("data_loader")
    shape = loader.load_service_model("sts", "service-2")["shapes"]["roleDurationSecondsType"]
    assert (shape["min"], shape["max"]) == (900, 43200)  # CA105
    assert "900..43200" in _page("CA105")
    hosts = ContainerMetadataFetcher._ALLOWED_HOSTS  # CA505
    assert sorted(hosts) == sorted(["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"])
    for host in hosts:
        assert host in _page("CA505")
    with pytest.raises(ValueError, match="Unsupported host"):
        ContainerMetadataFetcher()._validate_allowed_url("http://creds-sidecar:8080/credentials")


def test_expired_token_is_not_retryable_in_botocore() -> None:
    """CA201/CA202: botocore's retry rules never retry ExpiredToken."""
    import botocore.session
    from botocore.retries import standard

    legacy = json.dumps(
        botocore.session.get_session().get_component("data_loader").load_data("_retry")
    )
    assert "ExpiredToken" not in legacy
    assert "ExpiredToken" not in standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES
    assert "ExpiredToken" not in standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES


@pytest.mark.parametrize(("left", "fails"), [(700, False), (500, True)])
def test_mfa_session_fails_in_the_mandatory_window_not_at_expiry(left: int, fails: bool) -> None:
    """CA104: in one process an MFA role's calls fail once 600 s are left, not at expiry."""
    from datetime import UTC, datetime, timedelta

    from botocore.credentials import RefreshableCredentials, create_mfa_serial_refresher
    from botocore.exceptions import RefreshWithMFAUnsupportedError

    def assume_role() -> dict[str, str]:
        expiry = datetime.now(UTC) + timedelta(seconds=left)
        return {
            "access_key": "A",
            "secret_key": "S",
            "token": "T",
            "expiry_time": expiry.isoformat(),
        }

    refresher = create_mfa_serial_refresher(assume_role)
    creds = RefreshableCredentials.create_from_metadata(refresher(), refresher, "assume-role")
    if fails:
        with pytest.raises(RefreshWithMFAUnsupportedError):
            creds.get_frozen_credentials()
    else:
        assert creds.get_frozen_credentials().access_key == "A"


def _example_url(code: str) -> str:
    """The presigned URL shown (wrapped over lines) in a page's Example section."""
    example = _sections(_page(code))["## Example"]
    block = re.search(r"```text\n(https://[^`]+?)```", example)
    assert block, f"{code}: no URL in the example"
    return "".join(part.strip() for part in block.group(1).splitlines())


@pytest.mark.parametrize(
    ("code", "at"),
    [
        ("CA303", "2026-11-22T03:00:00Z"),
        ("CA305", "2026-11-22T10:00:00Z"),
        ("CA306", "2026-11-22T03:00:00Z"),
        ("CA307", "2026-11-22T10:00:00Z"),
        ("CA309", "2026-11-22T10:00:00Z"),
        ("CA302", "2026-11-22T10:00:00Z"),
    ],
)
def test_url_page_examples_trigger_their_rule(code: str, at: str, tmp_path: Path) -> None:
    """The URL a page shows, checked by `credaudit url` at the page's instant, yields the code."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AWS_")}
    env["HOME"] = str(tmp_path)
    args = ["url", "--no-network", "--home", str(tmp_path), "--at", at, "--format", "json"]
    result = CliRunner(env=env).invoke(cli, [*args, _example_url(code)])
    assert result.exit_code in (0, 1), result.output
    codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    assert code in codes, codes


# -- docs/usage.md -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["scan", "url", "serve", "fleet", "explain", "rules", "token"])
def test_usage_documents_every_option_of_the_commands_it_covers(command: str) -> None:
    import click

    usage = (REPO / "docs" / "usage.md").read_text(encoding="utf-8")
    group = cli
    assert isinstance(group, click.Group)
    cmd = group.get_command(click.Context(group), command)
    assert cmd is not None
    assert f"credaudit {command}" in usage
    for param in cmd.params:
        if isinstance(param, click.Option) and param.name != "help":
            flag = max(param.opts, key=len)
            assert f"`{flag}" in usage, f"{command} {flag} is not in docs/usage.md"


def test_usage_lists_every_command() -> None:
    from credaudit.cli import COMMANDS

    usage = (REPO / "docs" / "usage.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"`credaudit {name}" in usage, name
