"""The container, checked without a Docker engine (the team notes on Docker checks).

The image build itself is verified where an engine exists; here we check the Dockerfile's
promises and perform its install and start steps in a fresh environment.
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from config import load_settings
from tests.feedserver import FeedServer
from tests.helpers import FEEDS, ROOT

pytestmark = pytest.mark.sqlite_only("the image's SQLite file in its data volume")


def dockerfile() -> DockerfileParser:
    # its `path=` wants a folder and would write there; a file object it reads is enough
    return DockerfileParser(fileobj=io.BytesIO((ROOT / "Dockerfile").read_bytes()))


def instructions() -> list[dict[str, str]]:
    return list(dockerfile().structure)


def dockerignore() -> list[str]:
    return [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def compose_service() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return dict(compose["services"]["mirsad"])


def copy_sources() -> list[str]:
    sources = []
    for ins in instructions():
        if ins["instruction"] == "COPY":
            parts = [p for p in ins["value"].split() if not p.startswith("--")]
            sources += parts[:-1]
    return sources


def test_base_image_is_pinned_slim_python_311() -> None:
    base = dockerfile().baseimage
    name, _, tag = base.partition(":")
    assert name == "python"
    assert (
        tag.startswith("3.11.") and "slim" in tag and tag.count(".") >= 2
    )  # 3.11.x, not 3.11 / latest


def test_every_copy_source_exists_and_is_not_ignored() -> None:
    ignored = dockerignore()
    for source in copy_sources():
        assert (ROOT / source).exists(), source
        assert not any(
            fnmatch.fnmatch(source, pattern) for pattern in ignored if not pattern.startswith("!")
        ), source


def test_dependencies_are_installed_before_the_code_is_copied() -> None:
    ins = instructions()
    install = next(
        i
        for i, x in enumerate(ins)
        if x["instruction"] == "RUN" and "requirements.txt" in x["value"]
    )
    first_code = next(
        i for i, x in enumerate(ins) if x["instruction"] == "COPY" and "bot.py" in x["value"]
    )
    req_copy = next(
        i
        for i, x in enumerate(ins)
        if x["instruction"] == "COPY" and "requirements.txt" in x["value"]
    )
    assert req_copy < install < first_code


def test_install_command_is_the_readme_one() -> None:
    run = next(
        x["value"]
        for x in instructions()
        if x["instruction"] == "RUN" and "requirements.txt" in x["value"]
    )
    assert "pip install" in run and "-r requirements.txt" in run
    readme = (ROOT / "README.md").read_text()
    assert "pip install -r requirements.txt" in readme.split("```")[1]


def test_runs_as_non_root_with_volume_healthcheck_and_exec_form_cmd() -> None:
    ins = instructions()
    users = [x["value"].strip() for x in ins if x["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    volumes = [x["value"] for x in ins if x["instruction"] == "VOLUME"]
    assert any("/app/data" in v for v in volumes)
    health = [x["value"] for x in ins if x["instruction"] == "HEALTHCHECK"]
    assert health and json.loads(health[0].split("CMD", 1)[1]) == [
        "python",
        "bot.py",
        "healthcheck",
        "--config",
        "config.yaml",
    ]  # reads the configured health.port, not a port written into the image
    assert not [x for x in ins if x["instruction"] == "EXPOSE"]  # it listens on 127.0.0.1
    cmd = next(x["value"] for x in ins if x["instruction"] == "CMD")
    argv = json.loads(cmd)  # exec form is a JSON array
    assert argv[:3] == ["python", "bot.py", "run"]
    assert (ROOT / argv[1]).exists()


def test_no_secret_in_the_image_or_compose_file() -> None:
    text = (ROOT / "Dockerfile").read_text() + (ROOT / "docker-compose.yml").read_text()
    assert "TOKEN=" not in text.replace("_TOKEN=", "")  # names may appear, values never
    env_example = (ROOT / ".env.example").read_text()
    assert all(
        line.endswith("=")
        for line in env_example.splitlines()
        if line.startswith(("TELEGRAM", "DISCORD"))
    )


def test_compose_publishes_the_health_port_on_the_hosts_loopback_only() -> None:
    service = compose_service()
    port = load_settings(ROOT / "config.yaml", env={}).config.health.port
    assert service["ports"] == [f"127.0.0.1:{port}:{port}"]  # never 0.0.0.0 on the host
    # inside the container it listens beyond the container's own loopback, or the published
    # port would reach nothing; the shipped config.yaml stays on 127.0.0.1 outside Docker
    env = {k: str(v) for k, v in service["environment"].items()}
    assert env == {"MIRSAD_HEALTH_HOST": "0.0.0.0"}
    assert load_settings(ROOT / "config.yaml", env=env).config.health.host == "0.0.0.0"
    assert load_settings(ROOT / "config.yaml", env={}).config.health.host == "127.0.0.1"
    assert service["logging"]["options"] == {"max-size": "10m", "max-file": "3"}
    assert "mirsad-data:/app/data" in service["volumes"]


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "warning", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_image_install_and_start_steps_in_a_fresh_environment(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Do what the image does: copy what the Dockerfile copies, install with its command into a
    new virtual environment, start its CMD as a non-root-like user with only env tokens, and
    get 200 from /healthz."""
    app = tmp_path / "app"
    app.mkdir()
    for source in copy_sources():
        src = ROOT / source
        if src.is_dir():
            shutil.copytree(src, app / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, app / source)
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    install = next(
        x["value"]
        for x in instructions()
        if x["instruction"] == "RUN" and "requirements.txt" in x["value"]
    )
    args = install.split()[1:]  # "python -m pip install --no-cache-dir -r requirements.txt"
    subprocess.run([str(python), *args], cwd=app, check=True, capture_output=True, timeout=540)

    # The user mounts their own config; ours points at a loopback feed (no traffic leaves).
    feed_server.set("/feed.xml", FEEDS / "hespress-ar-2026-02-11.xml")
    port = free_port()
    config = (app / "config.yaml").read_text()
    head, _, rest = config.partition("feeds:")
    rest = rest[rest.index("\n# HTTP") if "\n# HTTP" in rest else rest.index("\nhttp:") :]
    config = (
        head + f"feeds:\n  - id: local\n    url: {feed_server.url('/feed.xml')}\n" + rest
    ).replace("allow_private_addresses: false", "allow_private_addresses: true")
    assert "\nhealth:\n  host: 127.0.0.1\n  port: 8080\n" in config
    config = config.replace("  port: 8080\n", f"  port: {port}\n")
    (app / "config.yaml").write_text(config)

    cmd = json.loads(next(x["value"] for x in instructions() if x["instruction"] == "CMD"))
    cmd[0] = str(python)
    proc = subprocess.Popen(
        cmd,
        cwd=app,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            "PATH": os.environ.get("PATH", ""),
            "NO_PROXY": "127.0.0.1,localhost",
            **compose_service()["environment"],  # as compose starts it: MIRSAD_HEALTH_HOST
        },
    )
    try:
        status = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and status != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    status = r.status
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.3)
        if status != 200:
            proc.kill()
            out, err = proc.communicate(timeout=15)
            pytest.fail(f"/healthz never answered 200:\n{err[-3000:]}\n{out[-2000:]}")
        assert (app / "data" / "mirsad.db").exists()
        assert oct((app / "data" / "mirsad.db").stat().st_mode & 0o777) == "0o600"
        check = next(x["value"] for x in instructions() if x["instruction"] == "HEALTHCHECK")
        check_argv = json.loads(check.split("CMD", 1)[1])
        check_argv[0] = str(python)
        healthy = subprocess.run(  # in the container it runs with the service's environment
            check_argv,
            cwd=app,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, **compose_service()["environment"]},
        )
        assert (healthy.returncode, healthy.stdout) == (0, "ok\n"), healthy.stderr
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
