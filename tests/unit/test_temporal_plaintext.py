"""A warning at start when Pacte talks to a Temporal beyond this machine without TLS (issue 25, item 7, in part):
whoever reaches that frontend has full authority over every contract's workflow."""

from __future__ import annotations

from pacte.settings import Settings


def test_a_remote_temporal_without_tls_is_warned_about() -> None:
    warning = Settings(temporal_address="temporal:7233").temporal_plaintext_warning()
    assert warning is not None and "temporal:7233" in warning and "TLS" in warning
    for quiet in (
        Settings(),  # the dev server, on loopback
        Settings(temporal_address="127.0.0.1:7233"),
        Settings(temporal_address="[::1]:7233"),
        Settings(temporal_address="localhost:7233"),
        Settings(temporal_address="temporal:7233", temporal_tls=True),
        Settings(temporal_address="ns.tmprl.cloud:7233", temporal_api_key="k"),
    ):
        assert quiet.temporal_plaintext_warning() is None, quiet.temporal_address
