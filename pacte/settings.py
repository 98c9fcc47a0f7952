"""The one place that reads configuration: environment variables prefixed ``PACTE_`` (or a ``.env`` file)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from pacte.keyring import ANCHORS, SESSIONS, Keyring, load_or_create


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PACTE_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None, description="PostgreSQL of the event store; unset: an embedded PostgreSQL under data_dir"
    )
    temporal_address: str | None = Field(
        default=None, description="host:port of Temporal; unset: `pacte dev` starts a dev server, others use 127.0.0.1"
    )
    temporal_namespace: str = Field(default="default", description="Temporal namespace")
    temporal_search_attributes: bool = Field(
        default=True,
        description="Contracts upsert their status, territory, kind, région and year as search attributes (registered "
        "by `pacte dev`; on a cluster by `pacte search-attributes`: the worker refuses to start without them)",
    )
    temporal_tls: bool = Field(
        default=False, description="Connect to Temporal over TLS (implied by a CA or client cert)"
    )
    temporal_tls_ca_file: Path | None = Field(default=None, description="CA certificate (PEM) that signed Temporal's")
    temporal_tls_cert_file: Path | None = Field(default=None, description="Client certificate (PEM) for mutual TLS")
    temporal_tls_key_file: Path | None = Field(default=None, description="Client private key (PEM) for mutual TLS")
    temporal_tls_server_name: str | None = Field(default=None, description="Server name to verify, if not the host's")
    temporal_api_key: str | None = Field(default=None, description="API key (Temporal Cloud); implies TLS")
    db_pool_min: int = Field(default=1, ge=0, le=100, description="Connections the event store's pool keeps open")
    db_pool_max: int = Field(default=10, ge=1, le=500, description="Connections the event store's pool may open")
    db_statement_timeout_ms: int = Field(
        default=30_000, ge=0, description="PostgreSQL statement_timeout of the pool's sessions (0: none)"
    )
    db_command_timeout_s: float | None = Field(
        default=60.0, gt=0, description="Client-side timeout of one database call (unset: none)"
    )
    db_statement_cache_size: int = Field(
        default=100,
        ge=0,
        description="Prepared statements cached per connection; 0 behind PgBouncer's transaction pooling",
    )
    worker_max_concurrent_workflow_tasks: int | None = Field(
        default=None, ge=1, description="Workflow task slots of a worker (unset: the SDK's default)"
    )
    worker_max_concurrent_activities: int | None = Field(
        default=None, ge=1, description="Activity slots of a worker (unset: the SDK's default)"
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP endpoint receiving traces (e.g. http://collector:4318/v1/traces); unset: none",
    )
    service_name: str = Field(default="pacte", description="service.name of the traces")
    metrics_port: int | None = Field(
        default=None,
        description="Port where `pacte worker` and `pacte api` serve /metrics to Prometheus (keep it off any published "
        "port); the API's own port serves /metrics to loopback callers only",
    )
    http_header_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="A client has this long to send a request's headers, else it is cut"
    )
    http_body_timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="A client has this long to send a request's body, else 408"
    )
    shutdown_grace_s: float = Field(
        default=5.0, ge=0, le=60, description="Time given to in-flight requests and activities when stopping"
    )
    task_queue: str = Field(default="pacte", description="Temporal task queue of the worker")
    runtime_database_url: str | None = Field(
        default=None,
        description="PostgreSQL as the runtime role (pacte_runtime) for the API and the worker; unset: the embedded "
        "server's runtime role, or PACTE_DATABASE_URL as given",
    )
    keyring: SecretStr | None = Field(
        default=None,
        description='Pacte\'s keyring itself, JSON {"active": id, "keys": {id: 64 hex}} (from a secret store); it '
        "seals Temporal's payloads (see the README's security section); unset: keyring_file",
    )
    keyring_file: Path | None = Field(
        default=None,
        description="File holding Pacte's keyring (0600; `pacte keys rotate` adds a key); unset: data_dir/keyring.json, "
        "created on first use",
    )
    temporal_ui_origin: str | None = Field(
        default=None,
        description="Origin of the Temporal Web UI (e.g. http://127.0.0.1:8233) allowed to read payloads through "
        "<api>/ui/codec (CORS with credentials); unset: none; `pacte dev` sets its own",
    )
    anchor_key_file: Path | None = Field(
        default=None,
        description="Key (hex) that signed audit anchors before the keyring (it verifies them); unset: data_dir/anchor.key",
    )
    anchors_dir: Path | None = Field(
        default=None,
        description="Where the nightly verify writes its signed anchors (keep it outside the database's reach); unset: "
        "data_dir/anchors",
    )
    reminder_relay_file: Path | None = Field(
        default=None,
        description="Where the reminders relay appends each reminder due (JSON lines, for a mailer); unset: "
        "data_dir/reminders-relayed.jsonl",
    )
    schedules: bool = Field(
        default=True,
        description="Create the nightly verify and the reminders relay as Temporal Schedules when the worker starts",
    )
    tokens_file: Path | None = Field(
        default=None, description="Hashed bearer tokens of the API; unset: data_dir/tokens.json"
    )
    access_file: Path | None = Field(
        default=None,
        description="Who may sign in to the web interface, as which role (pacte access …); unset: data_dir/access.json",
    )
    session_key_file: Path | None = Field(
        default=None,
        description="Key (hex) that signs the web interface's session cookies, as before the keyring; unset: derived "
        "from the keyring",
    )
    session_hours: int = Field(
        default=8, ge=1, le=24, description="How long a web session lasts without signing in again"
    )
    secure_cookies: bool = Field(
        default=False, description="Send the session cookie over HTTPS only (set it behind TLS, as in production)"
    )
    oidc_issuer: str | None = Field(
        default=None, description="OpenID provider (ProConnect's issuer URL); set, the web's sign-in goes through it"
    )
    oidc_client_id: str | None = Field(default=None, description="Pacte's client id at the provider")
    oidc_client_secret: SecretStr | None = Field(default=None, description="Pacte's client secret at the provider")
    public_url: str | None = Field(
        default=None,
        description="Pacte's address as browsers reach it (the redirect URIs registered at the provider derive from "
        "it: <public_url>/ui/oidc/retour); unset: the request's own",
    )
    demo_sign_in: bool = Field(
        default=False,
        description="Offer the demo identities' sign-in page (`pacte dev` turns it on); never in production",
    )
    api_url: str = Field(default="http://127.0.0.1:8000", description="Where the CLI finds the API")
    token: str | None = Field(default=None, description="The CLI's bearer token")
    api_host: str = Field(default="127.0.0.1", description="Address the HTTP API listens on")
    api_port: int = Field(default=8000, description="Port of the HTTP API")
    worker_max_cached_workflows: int = Field(
        default=1000, description="Workflows a worker keeps in memory between tasks (0: no sticky execution)"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR")
    log_format: Literal["json", "console"] | None = Field(
        default=None, description="json or console; unset: console under `pacte dev`, JSON otherwise"
    )
    data_dir: Path = Field(default=Path(".pacte"), description="Embedded PostgreSQL data and Temporal dev database")
    dev_temporal_port: int = Field(default=7233, description="gRPC port of the dev Temporal server")
    dev_oidc_port: int = Field(default=8481, description="Port of the local OpenID provider under `pacte dev`")
    dev_ui_port: int = Field(default=8233, description="Web UI port of the dev Temporal server")

    def access_path(self) -> Path:
        return self.access_file or self.data_dir / "access.json"

    def anchors_path(self) -> Path:
        return self.anchors_dir or self.data_dir / "anchors"

    def reminder_relay_path(self) -> Path:
        return self.reminder_relay_file or self.data_dir / "reminders-relayed.jsonl"

    def tokens_path(self) -> Path:
        return self.tokens_file or self.data_dir / "tokens.json"

    def keyring_path(self) -> Path:
        return self.keyring_file or self.data_dir / "keyring.json"

    def load_keyring(self) -> Keyring:
        """The keyring: PACTE_KEYRING's, else its file's (created, 0600, when there is none yet)."""
        if self.keyring is not None:
            return Keyring.from_json(self.keyring.get_secret_value())
        return load_or_create(self.keyring_path())

    def anchor_key(self) -> bytes:
        """The key that signed anchors before the keyring (PACTE_ANCHOR_KEY_FILE, else data_dir/anchor.key): it
        verifies the anchors that name no key; created (0600) on first use when absent."""
        return _secret(self.anchor_key_file or self.data_dir / "anchor.key")

    def anchor_signing_key(self) -> tuple[str, bytes]:
        """The keyring's active key's name and the key it gives anchors: what signs a new anchor."""
        keyring = self.load_keyring()
        return keyring.active, keyring.derive(ANCHORS)

    def anchor_key_for(self, key_id: str | None) -> bytes:
        """What verifies an anchor: the keyring key it names (an old one included), or, for an anchor of before
        the keyring, the anchor key file. A key the keyring no longer holds verifies nothing (a key of zeros)."""
        if key_id is None:
            return self.anchor_key()
        keyring = self.load_keyring()
        return keyring.derive(ANCHORS, key_id) if key_id in keyring.keys else bytes(32)

    def session_key(self) -> str:
        """The key that signs the web interface's session cookies: PACTE_SESSION_KEY_FILE's when one is given (as
        before the keyring), else derived from the keyring's active key (a rotation signs everyone out once; the
        sessions themselves live in PostgreSQL)."""
        if self.session_key_file is not None:
            return _secret(self.session_key_file).hex()
        return self.load_keyring().derive(SESSIONS).hex()

    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.dev_temporal_port}"

    def temporal_plaintext_warning(self) -> str | None:
        """A sentence for the logs when Temporal is reached beyond this machine without TLS: its frontend is full
        authority over every workflow (an update with a made-up actor suspends a contract), so it must be private."""
        tls = self.temporal_tls or self.temporal_api_key or self.temporal_tls_ca_file or self.temporal_tls_cert_file
        host = self.temporal_target().rsplit(":", 1)[0].strip("[]")
        if tls or host in ("127.0.0.1", "::1", "localhost"):
            return None
        return (
            f"Temporal at {self.temporal_target()} is reached without TLS: anyone who can reach its frontend can send "
            "any update to any contract. Keep it on a private network, and set PACTE_TEMPORAL_TLS (with mutual TLS) "
            "in production"
        )


def _secret(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)  # private from its first byte
        except FileExistsError:  # another process created it meanwhile: use theirs
            return bytes.fromhex(path.read_text().strip())
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
