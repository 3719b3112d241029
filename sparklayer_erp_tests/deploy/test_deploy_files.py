"""The deployment files agree with each other and with the code.

``Dockerfile``, ``deploy/docker-compose.yaml`` (+ ``compose.env.example``), ``deploy/dagster.docker.yaml``,
``deploy/dagster.postgres.yaml`` and ``deploy/helm-values.yaml`` are read as files (no Docker daemon, no cluster):
one image everywhere, Dagster on PostgreSQL through psycopg2, the expected run launchers, the same run queue
limits, the ledger migrated before the code starts, and every environment variable the code reads with a
deployment story, so a new setting nobody deployed fails here.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

from sparklayer_erp.settings import REPO_ROOT, SETTINGS

DEPLOY = REPO_ROOT / "deploy"
DOCS = REPO_ROOT / "docs" / "deploy.md"
SECRET_NAME = "sparklayer-erp-secrets"
GRPC_ARGS = ["-m", "sparklayer_erp.definitions", "-a", "defs"]
# Compose services that run a stock image rather than ours.
FOREIGN_IMAGE_SERVICES = {"postgres", "ledger-db"}


def _yaml(name: str) -> Any:
    return yaml.safe_load((DEPLOY / name).read_text())


def _compose() -> dict[str, Any]:
    return _yaml("docker-compose.yaml")


def _helm() -> dict[str, Any]:
    return _yaml("helm-values.yaml")


def _code_deployment() -> dict[str, Any]:
    (deployment,) = _helm()["dagster-user-deployments"]["deployments"]
    return deployment


def _interpolated(value: str) -> str:
    """What Compose makes of ``${VAR:-default}`` / ``${VAR:?message}`` when VAR is unset: the default (or '')."""
    return re.sub(r"\$\{[A-Z0-9_]+(?::?-([^}]*)|:?\?[^}]*)?\}", lambda m: m.group(1) or "", value)


def _env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines that are set (not commented out)."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not a KEY=VALUE line: {line!r}"
            pairs[key.strip()] = value
    return pairs


def _service_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: str(value) for key, value in env.items()}


def _env_reads(node: Any) -> Iterator[str]:
    """Every ``{env: NAME}`` in a Dagster instance file."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            yield node["env"]
        for value in node.values():
            yield from _env_reads(value)
    elif isinstance(node, list):
        for value in node:
            yield from _env_reads(value)


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (REPO_ROOT / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, args = line.strip().partition(" ")
            out.append((instruction.upper(), args.strip()))
    return out


def _instruction(name: str) -> list[str]:
    return [args for instruction, args in _dockerfile() if instruction == name]


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def _instance_variables() -> set[str]:
    return {name for file in ("dagster.postgres.yaml", "dagster.docker.yaml") for name in _env_reads(_yaml(file))}


def _secret(name: str) -> bool:
    # LEDGER_DATABASE_URL names the ledger's password.
    return SETTINGS[name].secret or name == "LEDGER_DATABASE_URL"


# ---------------------------------------------------------------------------------------------------- one image


def test_compose_helm_and_the_init_steps_run_one_image_tagged_with_the_package_version():
    compose = _compose()
    ours = {name: _interpolated(service["image"]) for name, service in compose["services"].items()
            if name not in FOREIGN_IMAGE_SERVICES}
    assert set(ours) == {"ledger-upgrade", "code", "daemon", "webserver"}
    (image,) = set(ours.values())
    deployment = _code_deployment()
    assert f"{deployment['image']['repository']}:{deployment['image']['tag']}" == image
    assert {c["image"] for c in deployment["initContainers"]} == {image}
    assert image.rsplit(":", 1)[1] == _pyproject()["project"]["version"]
    assert _env_file(DEPLOY / "compose.env.example")["SPARKLAYER_ERP_IMAGE"] == image

    code = compose["services"]["code"]
    assert code["build"] == {"context": "..", "dockerfile": "Dockerfile"}
    assert (DEPLOY / code["build"]["context"] / code["build"]["dockerfile"]).resolve() == REPO_ROOT / "Dockerfile"
    # Each run's container is started from the image the code server runs.
    assert _interpolated(_service_env(code)["DAGSTER_CURRENT_IMAGE"]) == image


def test_dockerfile_installs_the_deploy_extra_as_a_non_root_user_and_starts_the_grpc_code_server():
    assert _instruction("FROM") == ["python:3.11-slim"]
    assert any('pip install ".[deploy]"' in run for run in _instruction("RUN"))
    (user,) = _instruction("USER")
    assert user not in ("root", "0")
    env = " ".join(_instruction("ENV"))
    assert "DAGSTER_HOME=/opt/dagster/home" in env
    assert "deploy/dagster.docker.yaml /opt/dagster/home/dagster.yaml" in _instruction("COPY")

    (cmd,) = _instruction("CMD")
    argv = json.loads(cmd)  # exec form: signals reach the server
    assert argv[:3] == ["dagster", "api", "grpc"]
    assert argv[3:7] == GRPC_ARGS
    assert argv[argv.index("-h") + 1] == "0.0.0.0"
    port = int(argv[argv.index("-p") + 1])

    # Compose runs the CMD as is; Helm passes the same module and attribute on its own port.
    code = _compose()["services"]["code"]
    assert "command" not in code and "entrypoint" not in code
    assert code["healthcheck"]["test"][-2:] == ["-p", str(port)]
    assert _code_deployment()["dagsterApiGrpcArgs"] == GRPC_ARGS
    # The workspace the webserver and daemon load names the compose service `code` on that port.
    workspace = next(run for run in _instruction("RUN") if "/opt/dagster/workspace.yaml" in run)
    assert "host: code" in workspace and f"port: {port}" in workspace and "location_name: sparklayer_erp" in workspace
    for name in ("daemon", "webserver"):
        assert "/opt/dagster/workspace.yaml" in _compose()["services"][name]["command"]


def test_dockerignore_keeps_out_local_state_but_not_what_the_image_copies():
    patterns = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path.split("/")[0], p) for p in patterns)

    copied = [src for args in _instruction("COPY") for src in shlex.split(args)[:-1]]
    assert copied and not [src for src in copied if ignored(src)]
    for local in (".env", ".venv", ".data", ".git", "sparklayer_erp_tests", "deploy/.env"):
        assert ignored(local), local


def test_deploy_extra_pins_the_run_launchers_to_dagsters_release():
    project = _pyproject()["project"]
    pins = dict(dep.split("==") for dep in project["dependencies"] if dep.startswith("dagster"))
    assert set(project["optional-dependencies"]["deploy"]) == {
        f"dagster-docker=={pins['dagster-postgres']}", f"dagster-k8s=={pins['dagster-postgres']}"}
    # The Helm chart's release is Dagster's version.
    assert "--version " + pins["dagster"] in (DEPLOY / "helm-values.yaml").read_text()


# ------------------------------------------------------------------------------------------ Dagster instances


def test_instance_files_use_postgres_through_psycopg2_and_the_expected_run_launcher():
    for name in ("dagster.postgres.yaml", "dagster.docker.yaml"):
        config = _yaml(name)
        assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2", name
    assert "run_launcher" not in _yaml("dagster.postgres.yaml")  # the default: runs as processes
    launcher = _yaml("dagster.docker.yaml")["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    networks = {net.get("name", key) for key, net in _compose()["networks"].items()}
    assert launcher["config"]["network"] in networks

    helm = _helm()
    assert helm["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    assert helm["runLauncher"]["type"] == "K8sRunLauncher"


def test_every_deployment_queues_runs_with_one_erp_writer_and_retries_only_crashed_workers():
    local = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    limits = local["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": "erp/orders", "limit": 2} in limits
    assert {"key": "erp/order-state", "value": "writes", "limit": 1} in limits
    assert {"key": "erp/followup", "limit": 1} in limits and {"key": "erp/masterdata", "limit": 1} in limits
    coordinator = local["run_coordinator"]["config"]
    for name in ("dagster.postgres.yaml", "dagster.docker.yaml"):
        config = _yaml(name)
        assert config["concurrency"]["runs"]["tag_concurrency_limits"] == limits, name
        assert config["run_coordinator"]["config"] == coordinator, name
        assert config["run_retries"]["retry_on_asset_or_op_failure"] is False, name
    daemon = _helm()["dagsterDaemon"]
    assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queued["tagConcurrencyLimits"] == limits
    assert (queued["dequeueIntervalSeconds"], queued["dequeueUseThreads"]) == (
        coordinator["dequeue_interval_seconds"], coordinator["dequeue_use_threads"])
    assert daemon["runRetries"]["retryOnAssetOrOpFailure"] is False


def test_docker_instance_file_passes_dagsters_instance_schema():
    config, _ = dagster_instance_config(str(DEPLOY), "dagster.docker.yaml")
    assert config["run_launcher"]["class"] == "DockerRunLauncher"


# ------------------------------------------------------------------------------------------------ processes


def test_each_compose_process_has_a_healthcheck_and_the_ledger_is_upgraded_before_the_code_starts():
    services = _compose()["services"]
    one_shots = {name for name, s in services.items() if s.get("restart") == "no"}
    assert one_shots == {"ledger-db", "ledger-upgrade"}
    for name, service in services.items():
        if name not in one_shots:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
            assert service["restart"] == "unless-stopped", name
    # A one-shot has no healthcheck: whoever needs it waits for it to complete successfully.
    waits = {dep: cond["condition"] for s in services.values() for dep, cond in s.get("depends_on", {}).items()}
    assert {waits[name] for name in one_shots} == {"service_completed_successfully"}
    assert services["ledger-upgrade"]["command"] == ["sparklayer-erp", "ledger", "upgrade"]
    assert services["code"]["depends_on"]["ledger-upgrade"]["condition"] == "service_completed_successfully"
    for name in ("daemon", "webserver"):
        assert services[name]["depends_on"]["code"]["condition"] == "service_healthy"
    # Kubernetes: the same upgrade as an init container of the code server.
    (init,) = _code_deployment()["initContainers"]
    assert init["command"] == ["sparklayer-erp", "ledger", "upgrade"]
    # The only disk is PostgreSQL's; the daemon and the webserver see the Docker socket (runs are containers).
    mounts = {name: [v.split(":")[0] for v in s.get("volumes", [])] for name, s in services.items()}
    assert mounts["postgres"] == ["postgres-data"]
    assert mounts["daemon"] == mounts["webserver"] == ["/var/run/docker.sock"]
    assert not any(mounts[name] for name in ("code", "ledger-upgrade", "ledger-db"))


# ----------------------------------------------------------------------------------------------- environment


def _compose_variables() -> set[str]:
    names = set(_env_file(DEPLOY / "compose.env.example"))
    for service in _compose()["services"].values():
        names |= set(_service_env(service))
    return names


def _helm_variables() -> set[str]:
    return set(_code_deployment()["env"])


@pytest.mark.parametrize("name", sorted(set(SETTINGS) | _instance_variables()))
def test_every_variable_the_code_reads_is_set_by_a_deployment_or_documented(name: str):
    """A row of the settings table or a variable an instance file reads: set in compose/Helm, or in deploy.md."""
    assert name in _compose_variables() | _helm_variables() or re.search(rf"\b{name}\b", DOCS.read_text()), (
        f"{name} has no deployment story: add it to deploy/compose.env.example and deploy/dagster.docker.yaml's "
        "env_vars, to deploy/helm-values.yaml (ConfigMap env or the Secret), or explain it in docs/deploy.md")


def test_run_containers_receive_every_setting_and_the_daemon_has_every_one_it_forwards():
    forwarded = _yaml("dagster.docker.yaml")["run_launcher"]["config"]["env_vars"]
    assert len(forwarded) == len(set(forwarded))
    missing = (set(SETTINGS) | set(_env_reads(_yaml("dagster.docker.yaml")))) - set(forwarded)
    assert not missing, f"not passed to run containers (env_vars in deploy/dagster.docker.yaml): {sorted(missing)}"
    # DockerRunLauncher refuses to launch when a listed variable is unset in the daemon: the env file sets them all.
    example = _env_file(DEPLOY / "compose.env.example")
    assert not set(forwarded) - set(example), sorted(set(forwarded) - set(example))
    assert _compose()["services"]["daemon"]["env_file"] == [".env"]
    assert example["SPARKLAYER_ERP_ENV_FILE"] == ""  # no .env inside the containers


def test_secrets_live_in_the_env_file_or_the_kubernetes_secret_never_in_a_configmap_or_compose_file():
    secrets = {name for name in SETTINGS if _secret(name)}
    assert {"SPARKLAYER_CLIENT_SECRET", "ERP_PASSWORD", "LEDGER_DATABASE_URL"} <= secrets
    assert {f"ALERT_URLS_{team}" for team in ("FINANCE", "SALES_OPERATIONS", "OPERATIONS", "ECOMMERCE")} <= secrets
    assert not secrets & _helm_variables(), "secrets go in the Secret, not the ConfigMap env"
    for name, service in _compose()["services"].items():
        for key, value in _service_env(service).items():
            if key in secrets or "PASSWORD" in key:
                assert value.startswith("${"), f"{name}: {key} must come from deploy/.env, not the compose file"
    # Helm: the code server, its init step and every run read the Secret.
    deployment = _code_deployment()
    assert {"name": SECRET_NAME} in deployment["envSecrets"]
    assert {"name": SECRET_NAME} in _helm()["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"]
    assert {"secretRef": {"name": SECRET_NAME}} in deployment["initContainers"][0]["envFrom"]
    # The platform engineer learns the Secret's keys from deploy.md.
    docs = DOCS.read_text()
    assert SECRET_NAME in docs
    assert not [name for name in secrets if not re.search(rf"\b{name}\b", docs)]
