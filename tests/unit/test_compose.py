"""docker-compose.yaml, checked without a Docker engine: schema, paths, and the same settings as `make up`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from local_stack.environment import airflow_env
from tests.fixtures.stack import EXAMPLE_DESCRIPTION

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
SCHEMA = json.loads((Path(__file__).parent / "data" / "compose_spec.json").read_text())
MWAA_HOME = "/usr/local/airflow"


def _bind_mounts():
    for name, service in COMPOSE["services"].items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                yield name, source, target


def _commands():
    for name, service in COMPOSE["services"].items():
        command = service.get("command", [])
        yield name, " ".join(command) if isinstance(command, list) else command


def test_the_file_follows_the_compose_specification():
    jsonschema.Draft201909Validator(SCHEMA).validate(COMPOSE)


@pytest.mark.parametrize(("service", "source", "target"), list(_bind_mounts()))
def test_every_mounted_path_exists(service, source, target):
    assert (REPO / source).exists(), f"{service} mounts {source}, which is not in the repository"


def test_airflow_sees_the_project_as_mwaa_lays_it_out():
    mounts = {target: source for service, source, target in _bind_mounts() if service == "airflow"}
    assert mounts[f"{MWAA_HOME}/dags"] == "./dags"
    assert mounts[f"{MWAA_HOME}/plugins"] == "./plugins"
    assert mounts[f"{MWAA_HOME}/include"] == "./include"


def test_airflow_runs_the_local_stacks_executor_from_a_mounted_folder():
    local = airflow_env(EXAMPLE_DESCRIPTION)
    compose = COMPOSE["services"]["airflow"]["environment"]
    assert compose["AIRFLOW__CORE__EXECUTOR"] == local["AIRFLOW__CORE__EXECUTOR"]
    module = local["AIRFLOW__CORE__EXECUTOR"].rsplit(".", 1)[0]
    (folder,) = compose["PYTHONPATH"].split(":")
    mounts = {target: source for service, source, target in _bind_mounts() if service == "airflow"}
    (mount,) = [target for target in mounts if folder.startswith(f"{target}/")]
    assert (REPO / mounts[mount] / folder.removeprefix(f"{mount}/") / f"{module}.py").is_file()


def test_every_build_file_and_what_it_copies_exists():
    for service in COMPOSE["services"].values():
        build = service.get("build")
        if not build:
            continue
        dockerfile = REPO / build["context"] / build["dockerfile"]
        assert dockerfile.is_file(), dockerfile
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY "):
                for source in line.split()[1:-1]:
                    assert (REPO / build["context"] / source).exists(), f"{dockerfile.name} copies missing {source}"


def test_every_python_module_a_command_runs_exists():
    modules = [(name, module) for name, command in _commands()
               for module in re.findall(r"python -m ([\w.]+)", command)]
    assert modules, "the emulator and the provisioning run project modules"
    for service, module in modules:
        path = REPO / module.replace(".", "/")
        assert path.with_suffix(".py").is_file() or (path / "__main__.py").is_file(), (service, module)


def test_airflow_gets_the_same_connections_and_variables_as_the_local_stack():
    stack = EXAMPLE_DESCRIPTION
    local = airflow_env(stack)
    compose = COMPOSE["services"]["airflow"]["environment"]

    def settings(environment):
        return {name for name in environment if name.startswith(("AIRFLOW_VAR_", "AIRFLOW_CONN_"))}

    assert settings(compose) == settings(local)
    for name in settings(local):
        if name.startswith("AIRFLOW_VAR_") and "URL" not in name and "ARN" not in name:
            assert compose[name] == local[name], name
    for name in ("AIRFLOW_CONN_AWS_DEFAULT", "AIRFLOW_CONN_REDSHIFT_DEFAULT"):
        assert json.loads(compose[name])["conn_type"] == json.loads(local[name])["conn_type"]
    assert json.loads(compose["AIRFLOW_CONN_AWS_DEFAULT"])["extra"]["endpoint_url"] == "http://emulator:5055"


COMPOSE_TEXT = (REPO / "docker-compose.yaml").read_text()


@pytest.mark.parametrize("service", [name for name, service in COMPOSE["services"].items() if "ports" in service])
def test_ports_are_published_on_loopback_only(service):
    for mapping in COMPOSE["services"][service]["ports"]:
        assert isinstance(mapping, str) and mapping.startswith("127.0.0.1:"), (service, mapping)


def test_passwords_come_from_the_environment_without_defaults():
    # Compose's interpolation: ${VAR:?message} refuses to start when VAR is unset or empty.
    references = re.findall(r"(?<!\$)\$\{(\w*PASSWORD\w*)([^}]*)\}", COMPOSE_TEXT)
    assert {name for name, _ in references} == {"POSTGRES_PASSWORD", "AIRFLOW_ADMIN_PASSWORD"}
    for name, rest in references:
        assert rest.startswith(":?set "), f"${{{name}{rest}}} must be required (:?), with a message"
    # Inside containers ($$ escapes compose) the variables are used as given, never with a fallback.
    assert not re.search(r"\$\$\{\w*PASSWORD\w*:-", COMPOSE_TEXT)
    assert "airflow:${POSTGRES_PASSWORD:?" in COMPOSE["services"]["airflow"]["environment"][
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]


def test_the_non_root_init_can_write_the_auth_volume():
    """A new named volume takes its mount point's owner from the image: the Dockerfile must create the
    folder and give it to the airflow user before switching to it, and airflow-init must not run as root."""
    init = COMPOSE["services"]["airflow-init"]
    (target,) = [volume.split(":")[1] for volume in init["volumes"] if volume.startswith("airflow-auth:")]
    assert "airflow-auth" in COMPOSE["volumes"]
    assert "user" not in init
    assert f"> {target}/" in " ".join(init["command"])
    dockerfile = (REPO / init["build"]["context"] / init["build"]["dockerfile"]).read_text()
    before_user_switch = dockerfile.split("\nUSER airflow\n")[0]
    (prepare,) = [line for line in before_user_switch.splitlines() if f"mkdir -p {target}" in line]
    assert re.search(rf"chown -R airflow: ({re.escape(target)}|{re.escape(MWAA_HOME)})( |$)", prepare), prepare


def test_lineage_is_configured_as_in_the_local_stack():
    local = airflow_env({"aws_endpoint_url": "http://127.0.0.1:5055", "aws_region": "us-east-1",
                         "warehouse_dsn": "postgresql://postgres@127.0.0.1:5433/postgres", "bucket": "b",
                         "raw_prefix": "raw/", "processed_prefix": "processed/", "glue_assets_prefix": "glue/",
        "artifacts_bucket": "imdb-quality-artifacts-local",
                         "raw_events_queue_url": "q", "notifications_topic_arn": "t", "glue_job_name": "j",
                         "glue_role_name": "r", "airflow_home": "/tmp/airflow", "airflow_url": "http://127.0.0.1:8080",
                         "airflow_user": "admin"})
    compose = COMPOSE["services"]["airflow"]["environment"]
    lineage = sorted(name for name in local if name.startswith("AIRFLOW__OPENLINEAGE__"))
    assert lineage == sorted(name for name in compose if name.startswith("AIRFLOW__OPENLINEAGE__"))
    assert compose["AIRFLOW__OPENLINEAGE__NAMESPACE"] == local["AIRFLOW__OPENLINEAGE__NAMESPACE"]
    transport = json.loads(compose["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert transport["type"] == json.loads(local["AIRFLOW__OPENLINEAGE__TRANSPORT"])["type"] == "file"
    assert transport["log_file_path"].startswith(f"{MWAA_HOME}/")


def test_postgres_runs_with_the_local_stacks_server_settings(tmp_path):
    from local_stack.postgres import INITDB_COLLATION, server_settings

    service = COMPOSE["services"]["postgres"]
    version = re.fullmatch(r"postgres:(\d+)", service["image"]).group(1)
    (tmp_path / "PG_VERSION").write_text(f"{version}\n")
    command = service["command"]
    assert command[0] == "postgres"
    assert [f"{flag} {value}" for flag, value in zip(command[1::2], command[2::2], strict=True)] == server_settings(
        tmp_path
    )
    assert service["environment"]["POSTGRES_INITDB_ARGS"] == INITDB_COLLATION
