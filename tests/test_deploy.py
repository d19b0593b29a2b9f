"""What operators install (deploy/): the systemd units pass `systemd-analyze verify` and run,
the Kubernetes manifests validate against the Kubernetes OpenAPI schema (kubernetes-validate,
strict) and the Prometheus Operator's CRD models (cloudcoil), their credaudit arguments are
valid options, and the PrometheusRule is the rules file's own groups."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from tests.fleet.serve_util import clean_env
from tests.peers.peer_util import REPO, free_port, require_peer, wait_until

DEPLOY = REPO / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())
SHIPPED_BINARY = "/opt/credaudit/bin/credaudit"
CREDAUDIT = Path(sys.executable).parent / "credaudit"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
KUBERNETES = "1.30.0"


def _docs() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}#{index}", doc)
        for path in MANIFESTS
        for index, doc in enumerate(yaml.safe_load_all(path.read_text()))
        if doc
    ]


# -- systemd -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        require_peer("systemd-analyze is not installed (scripts/peers install)")
    return found


def _installed_units(tmp_path: Path) -> list[Path]:
    """The units as installed on a host whose credaudit lives where this test's does."""
    out = []
    for unit in UNITS:
        target = tmp_path / unit.name
        target.write_text(unit.read_text().replace(SHIPPED_BINARY, str(CREDAUDIT)))
        out.append(target)
    return out


def test_units_pass_systemd_analyze_verify(systemd_analyze: str, tmp_path: Path) -> None:
    assert {u.name for u in UNITS} == {
        "credaudit.service",
        "credaudit-textfile.service",
        "credaudit-textfile.timer",
    }
    units = _installed_units(tmp_path)
    proc = subprocess.run(
        [systemd_analyze, "verify", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr  # verify warns (rc 0) about unknown keys


def test_verify_does_catch_a_broken_unit(systemd_analyze: str, tmp_path: Path) -> None:
    [serve] = [u for u in _installed_units(tmp_path) if u.name == "credaudit.service"]
    serve.write_text(serve.read_text().replace("ProtectSystem=strict", "ProtectSystem=stritc"))
    proc = subprocess.run(
        [systemd_analyze, "verify", str(serve)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "protect system value" in proc.stderr.lower()


def test_serve_unit_is_hardened(systemd_analyze: str, tmp_path: Path) -> None:
    [serve] = [u for u in _installed_units(tmp_path) if u.name == "credaudit.service"]
    proc = subprocess.run(
        [systemd_analyze, "security", "--offline=yes", str(serve)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for credaudit.service: ([\d.]+)", proc.stdout)
    assert found, proc.stdout[-500:] + proc.stderr
    assert float(found.group(1)) <= 2.0  # systemd rates ≤ 2 "OK"; a bare service is 9.6
    text = (DEPLOY / "systemd" / "credaudit.service").read_text()
    for line in ("DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert line in text


def _exec_start(unit: Path) -> str:
    [line] = [x for x in unit.read_text().splitlines() if x.startswith("ExecStart=")]
    return line.removeprefix("ExecStart=")


def test_the_serve_units_command_serves(tmp_path: Path) -> None:
    argv = shlex.split(_exec_start(DEPLOY / "systemd" / "credaudit.service"))
    assert argv[0] == SHIPPED_BINARY and argv[1] == "serve"
    port = free_port()
    argv = [str(CREDAUDIT)] + [
        f"127.0.0.1:{port}" if arg == "127.0.0.1:9794" else arg for arg in argv[1:]
    ]
    env = clean_env()
    env["HOME"] = str(tmp_path)
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9/"  # loopback only
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
    try:

        def metrics() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
                return str(answer.read().decode())

        assert wait_until(lambda: "credaudit_scans_total 1.0" in metrics(), timeout=30)
        assert "credaudit_up 1.0" in metrics()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_the_textfile_units_command_writes_the_file(tmp_path: Path) -> None:
    command = shlex.split(_exec_start(DEPLOY / "systemd" / "credaudit-textfile.service"))
    assert command[:2] == ["/bin/sh", "-c"]
    script = command[2].replace(SHIPPED_BINARY, str(CREDAUDIT))
    env = clean_env()
    env.update(HOME=str(tmp_path), TEXTFILE=str(tmp_path / "credaudit.prom"))
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9/"
    subprocess.run(["/bin/sh", "-c", script], env=env, timeout=60, check=True)
    written = (tmp_path / "credaudit.prom").read_text()
    assert "credaudit_scan_timestamp_seconds" in written
    assert not (tmp_path / "credaudit.prom.tmp").exists()
    timer = (DEPLOY / "systemd" / "credaudit-textfile.timer").read_text()
    assert "RandomizedDelaySec=" in timer  # hosts do not scan at the same instant
    assert time.time() - (tmp_path / "credaudit.prom").stat().st_mtime < 60


# -- Kubernetes --------------------------------------------------------------------------------

CORE_KINDS = {"DaemonSet", "Deployment", "Service"}
OPERATOR_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}


def test_the_manifests_hold_every_kind_the_issue_names() -> None:
    kinds = [doc["kind"] for _, doc in _docs()]
    assert sorted(kinds) == sorted(
        ["DaemonSet", "Deployment", "Service", "ServiceMonitor", "PodMonitor", "PrometheusRule"]
    )


@pytest.mark.parametrize(("name", "doc"), [d for d in _docs() if d[1]["kind"] in CORE_KINDS])
def test_core_manifests_validate_strictly(name: str, doc: dict[str, Any]) -> None:
    import kubernetes_validate

    kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_strict_validation_rejects_a_misspelt_field() -> None:
    import kubernetes_validate

    [(_, daemonset)] = [d for d in _docs() if d[1]["kind"] == "DaemonSet"]
    broken = yaml.safe_load(yaml.safe_dump(daemonset))
    broken["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFileSystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def _operator_model(kind: str) -> Any:
    from cloudcoil.models.prometheus_operator import v1

    return getattr(v1, kind)


def _strict_round_trip(doc: dict[str, Any]) -> None:
    """Validate with the operator's CRD models; a field the schema does not know is dropped
    by the model, so the round trip must give back exactly the document."""
    model = _operator_model(doc["kind"]).model_validate(doc)
    again = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert again == doc


@pytest.mark.parametrize(("name", "doc"), [d for d in _docs() if d[1]["kind"] in OPERATOR_KINDS])
def test_operator_resources_validate_against_their_crd_models(
    name: str, doc: dict[str, Any]
) -> None:
    _strict_round_trip(doc)


def test_the_crd_check_rejects_an_unknown_field() -> None:
    [(_, monitor)] = [d for d in _docs() if d[1]["kind"] == "ServiceMonitor"]
    broken = yaml.safe_load(yaml.safe_dump(monitor))
    broken["spec"]["endpoints"][0]["scrapeIntervall"] = "30s"
    with pytest.raises(AssertionError):
        _strict_round_trip(broken)


def test_the_prometheusrule_is_the_rules_files_groups() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import prometheusrule
    finally:
        sys.path.pop(0)
    rules_text = (DEPLOY / "prometheus" / "credaudit-alerts.yml").read_text()
    shipped = (DEPLOY / "kubernetes" / "prometheusrule.yaml").read_text()
    assert shipped == prometheusrule.render(rules_text), "run scripts/prometheusrule.py"
    assert yaml.safe_load(shipped)["spec"]["groups"] == yaml.safe_load(rules_text)["groups"]


def _credaudit_containers() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, doc in _docs():
        if doc["kind"] in ("DaemonSet", "Deployment"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                if container["name"] == "credaudit":
                    found.append((name, container))
    return found


@pytest.mark.parametrize(("name", "container"), _credaudit_containers())
def test_the_containers_arguments_are_valid_serve_options(
    name: str, container: dict[str, Any]
) -> None:
    from credaudit.commands.serve import serve

    args = container["args"]
    assert args[0] == "serve"
    context = serve.make_context("serve", list(args[1:]))  # parses and converts every value
    assert context.params["listen"] == ":9794"
    assert isinstance(serve, click.Command)
    port = container["ports"][0]
    assert port["containerPort"] == 9794
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_sidecar_shares_the_workloads_credentials() -> None:
    [(_, deployment)] = [d for d in _docs() if d[1]["kind"] == "Deployment"]
    worker, sidecar = deployment["spec"]["template"]["spec"]["containers"]
    assert sidecar["name"] == "credaudit"
    assert sidecar["env"] == worker["env"]
    assert sidecar["volumeMounts"] == worker["volumeMounts"]
    names = {e["name"] for e in sidecar["env"]}
    assert {"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} <= names


@pytest.mark.parametrize(
    "page",
    [
        "README.md",
        "docs/fleet.md",
        "docs/prometheus.md",
        "docs/prometheus/README.md",
        "docs/usage.md",
    ],
)
def test_the_pages_relative_links_resolve(page: str) -> None:
    """The alert rules moved to deploy/: every link to them (and to the rest) still lands."""
    path = REPO / page
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
    local = [link for link in links if "://" not in link]
    assert local
    missing = [link for link in local if not (path.parent / link).exists()]
    assert missing == []


# -- ECS ---------------------------------------------------------------------------------------

ECS_TASK = DEPLOY / "ecs" / "task-definition-sidecar.json"


def _ecs_errors(document: dict[str, Any]) -> str:
    """botocore's own parameter validation against ECS RegisterTaskDefinition's input shape
    (unknown keys, wrong types, missing required members are errors)."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(document, shape)
    return str(report.generate_report()) if report.has_errors() else ""


def test_the_ecs_task_definition_is_what_register_task_definition_takes() -> None:
    import json

    document = json.loads(ECS_TASK.read_text())
    assert _ecs_errors(document) == ""
    [sidecar] = [c for c in document["containerDefinitions"] if c["name"] == "credaudit"]
    assert sidecar["essential"] is False  # the sidecar never takes the task down
    from credaudit.commands.serve import serve

    serve.make_context("serve", list(sidecar["command"][1:]))
    assert {"name": "credaudit", "containerPort": 9794, "protocol": "tcp"}.items() <= sidecar[
        "portMappings"
    ][0].items()


def test_the_ecs_check_rejects_a_misspelt_key() -> None:
    import json

    document = json.loads(ECS_TASK.read_text())
    document["containerDefinitions"][1]["readOnlyRootFilesystem"] = True  # ECS spells it readonly…
    assert "Unknown parameter" in _ecs_errors(document)
