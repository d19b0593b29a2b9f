"""Benchmarks for `credaudit scan` (issue 2), printed as Markdown rows for docs/performance.md.

1. The bundled example: `credaudit scan` against `aws configure list` (AWS CLI v1) on the same
   home, both as fresh processes, interleaved, medians of N runs.
2. A home with 200 profiles and 1,000 CLI-cache files: `credaudit scan --all-profiles`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "batch-worker"
AWS = REPO / ".peers" / "awscli" / "bin" / "aws"
CREDAUDIT = Path(os.environ.get("CREDAUDIT_BENCH_BIN") or Path(sys.executable).parent / "credaudit")
RUNS = int(os.environ.get("BENCH_RUNS", "21"))


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(extra)
    return env


def wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def compare(
    label_a: str, cmd_a: list[str], label_b: str, cmd_b: list[str], env: dict[str, str]
) -> tuple[float, float]:
    a: list[float] = []
    b: list[float] = []
    for cmd in (cmd_a, cmd_b):  # warm the page cache and .pyc files
        wall(cmd, env)
    for _ in range(RUNS):
        a.append(wall(cmd_a, env))
        b.append(wall(cmd_b, env))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"| {label_a} | {ma * 1000:.0f} ms |")
    print(f"| {label_b} | {mb * 1000:.0f} ms |")
    print(f"| ratio | {ma / mb:.0%} (target ≤ 60 %) |")
    return ma, mb


def big_home(root: Path) -> Path:
    sys.path.insert(0, str(REPO))
    from credaudit.sources.cli_cache import assume_role_cache_key

    home = root / "home"
    cache = home / ".aws" / "cli" / "cache"
    cache.mkdir(parents=True)
    lines = ["[profile base]", "region = us-east-1", ""]
    for i in range(200):
        arn = f"arn:aws:iam::123456789012:role/r{i}"
        lines += [f"[profile p{i}]", f"role_arn = {arn}", "source_profile = base", ""]
        key = assume_role_cache_key(arn)
        (cache / f"{key}.json").write_text(
            json.dumps(
                {
                    "Credentials": {
                        "AccessKeyId": f"ASIA{i:016d}",
                        "SecretAccessKey": "s",
                        "SessionToken": "t",
                        "Expiration": "2030-01-01T00:00:00UTC",
                    }
                }
            )
        )
    for i in range(800):
        (cache / f"orphan{i:04d}.json").write_text(
            json.dumps(
                {
                    "Credentials": {
                        "AccessKeyId": f"ASIB{i:016d}",
                        "SecretAccessKey": "s",
                        "SessionToken": "t",
                        "Expiration": "2030-01-01T00:00:00Z",
                    }
                }
            )
        )
    (home / ".aws" / "config").write_text("\n".join(lines))
    (home / ".aws" / "credentials").write_text(
        "[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n"
    )
    return home


def main() -> None:
    sys.path.insert(0, str(REPO))
    from tests.test_example import README_ARGS  # exactly the command the README test runs

    home = EXAMPLE / "home" / "worker"
    env = clean_env(HOME=str(home), AWS_EC2_METADATA_DISABLED="true", AWS_PROFILE="base")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {RUNS} runs each, medians")
    print(f"credaudit binary: {CREDAUDIT}\n")
    print("### scan on the bundled example vs `aws configure list`\n")
    print("| command | median wall |\n|---|---|")
    compare(
        "`credaudit scan --home <example home> --no-network`",
        [str(CREDAUDIT), "scan", "--home", str(home), "--no-network"],
        "`aws configure list` (AWS CLI v1, same home)",
        [str(AWS), "configure", "list"],
        env,
    )
    print("\n### the README's example command (all profiles, env file, budget) vs the same\n")
    print("| command | median wall |\n|---|---|")
    compare(
        "`credaudit scan --root <example> --env-file worker.env --all-profiles ...` (README)",
        [str(CREDAUDIT), *README_ARGS],
        "`aws configure list` (AWS CLI v1, same home)",
        [str(AWS), "configure", "list"],
        env,
    )
    with tempfile.TemporaryDirectory() as tmp:
        home_big = big_home(Path(tmp))
        env_big = clean_env(HOME=str(home_big), AWS_EC2_METADATA_DISABLED="true")
        cmd = [
            str(CREDAUDIT),
            "scan",
            "--home",
            str(home_big),
            "--all-profiles",
            "--no-network",
            "--format",
            "json",
        ]
        wall(cmd, env_big)
        times = sorted(wall(cmd, env_big) for _ in range(max(5, RUNS // 3)))
        out = subprocess.run(cmd, env=env_big, capture_output=True, text=True, check=False).stdout
        report = json.loads(out)
        print("\n### 200 profiles, 1,000 CLI-cache files (`scan --all-profiles --format json`)\n")
        print("| measure | value |\n|---|---|")
        print(f"| median wall | {statistics.median(times) * 1000:.0f} ms (target < 1 s) |")
        print(f"| max wall | {times[-1] * 1000:.0f} ms |")
        print(f"| profiles resolved | {len(report['chain'])} |")
        matched = sum(
            1 for c in report["credentials"] if c["source"] == "assume-role" and c["expires_at"]
        )
        print(f"| role profiles matched to their cache entry | {matched} |")


if __name__ == "__main__":
    main()
