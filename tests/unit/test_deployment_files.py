"""Docker cannot run here: these tests read docker-compose.yml and the Dockerfile and check they agree with Settings."""

from __future__ import annotations

from pathlib import Path

import yaml

from pacte.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_every_part_of_a_real_deployment() -> None:
    services = compose()["services"]
    assert {
        "temporal-db",
        "temporal",
        "temporal-ui",
        "events-db",
        "pacte-migrate",
        "pacte-worker",
        "pacte-api",
        "prometheus",
        "grafana",
    } <= set(services)
    # Temporal and the event store live on separate PostgreSQL servers.
    assert services["temporal"]["environment"]["POSTGRES_SEEDS"] == "temporal-db"
    assert services["temporal"]["environment"]["DEFAULT_NAMESPACE_RETENTION"].endswith("h")
    assert services["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert services["pacte-worker"]["build"] == "." and services["pacte-api"]["build"] == "."


def test_pacte_services_are_configured_only_through_known_settings() -> None:
    known = {f"PACTE_{name.upper()}" for name in Settings.model_fields}
    services = compose()["services"]
    for name in ("pacte-worker", "pacte-api"):
        env = services[name]["environment"]
        assert set(env) <= known, f"{name} sets unknown settings: {set(env) - known}"
        settings = Settings.model_validate({k.removeprefix("PACTE_").lower(): v for k, v in env.items()})
        assert settings.database_url is not None and "@events-db:5432/" in settings.database_url
        # Least privilege: the runtime role, whose password the database's init script sets.
        assert settings.runtime_database_url is not None
        assert settings.runtime_database_url.startswith("postgresql://pacte_runtime:")
        assert (
            "CREATE ROLE pacte_runtime LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD"
            in (ROOT / "deploy" / "events-db-init.sql").read_text()
        )
        assert settings.temporal_target() == "temporal:7233"
        assert settings.temporal_namespace == services["temporal"]["environment"]["DEFAULT_NAMESPACE"]
        assert settings.log_format == "json"
        # A writable data volume (tokens, keys), waited for in order: migrations first, with the owner role.
        assert str(settings.data_dir) == "/data" and "pacte-data:/data" in services[name]["volumes"]
        assert services[name]["depends_on"]["pacte-migrate"]["condition"] == "service_completed_successfully"
        assert "healthcheck" in services[name] and services[name]["stop_grace_period"]
    api = Settings.model_validate(
        {k.removeprefix("PACTE_").lower(): v for k, v in services["pacte-api"]["environment"].items()}
    )
    assert api.tokens_path() == Path("/data/tokens.json")  # on the volume: tokens added once are kept
    assert "/ready" in " ".join(services["pacte-api"]["healthcheck"]["test"])
    worker = services["pacte-worker"]["environment"]
    assert f"pacte-worker:{worker['PACTE_METRICS_PORT']}" in (ROOT / "deploy" / "prometheus.yml").read_text()
    migrate = services["pacte-migrate"]
    assert migrate["command"] == ["pacte", "migrate"] and "PACTE_RUNTIME_DATABASE_URL" not in migrate["environment"]


def test_grafana_is_provisioned_with_the_dashboard() -> None:
    services = compose()["services"]
    volumes = " ".join(services["grafana"]["volumes"])
    assert "./deploy/grafana/provisioning:" in volumes and "./deploy/grafana/dashboards:" in volumes
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/pacte.yml").read_text())
    assert provider["providers"][0]["options"]["path"] in volumes
    assert "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml" in " ".join(services["prometheus"]["volumes"])


def test_published_ports_agree_with_settings() -> None:
    services = compose()["services"]
    api_env = services["pacte-api"]["environment"]
    api_port = int(api_env["PACTE_API_PORT"])
    assert f"{api_port}:{api_port}" in services["pacte-api"]["ports"]
    assert api_env["PACTE_API_HOST"] == "0.0.0.0"  # reachable from outside its container
    # What a deployment exposes: the API and web interface; Prometheus and Grafana on the host's loopback only.
    published = {name: service.get("ports", []) for name, service in services.items() if service.get("ports")}
    assert set(published) == {"pacte-api", "prometheus", "grafana"}, published
    assert published["pacte-api"] == [f"{api_port}:{api_port}"]
    assert all(port.startswith("127.0.0.1:") for name in ("prometheus", "grafana") for port in published[name])
    # Temporal's frontend and UI are full authority over every workflow: never published.
    assert "ports" not in services["temporal"] and "ports" not in services["temporal-ui"]
    # /metrics on its own port, which no published port maps; Prometheus scrapes it there.
    metrics_port = api_env["PACTE_METRICS_PORT"]
    assert all(not port.endswith(f":{metrics_port}") for ports in published.values() for port in ports)
    assert f"pacte-api:{metrics_port}" in (ROOT / "deploy" / "prometheus.yml").read_text()


def test_the_event_store_owner_is_not_a_superuser() -> None:
    services = compose()["services"]
    owner = services["pacte-migrate"]["environment"]["PACTE_DATABASE_URL"].split("//")[1].split(":")[0]
    assert services["events-db"]["environment"]["POSTGRES_USER"] != owner  # the image makes POSTGRES_USER superuser
    init = (ROOT / "deploy" / "events-db-init.sql").read_text()
    assert f"CREATE ROLE {owner} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" in init
    assert f"CREATE DATABASE pacte OWNER {owner};" in init
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC;" in init


def test_dockerfile_installs_the_package_and_runs_pacte() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("domain", "eventstore", "activities", "workflows", "pacte"):
        assert f"COPY {package} ./{package}" in dockerfile
    assert "pip install --no-cache-dir ." in dockerfile
    assert "USER pacte" in dockerfile
    assert "chown pacte /data" in dockerfile and 'VOLUME ["/data"]' in dockerfile  # the service can write its data
