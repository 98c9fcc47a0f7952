"""The `pacte` command line (typer + rich): one module per command group, each thin over the service layer (the
operators' commands go through the HTTP API, so the same rules apply to both).

Exit codes scripts can rely on: 0 done, 1 refused (domain rule, unknown contract), 2 usage error.
"""

from __future__ import annotations

import typer

from pacte.cli import access, audit, campaigns, contracts, keys, projections, server, simulate, status, tokens

app = typer.Typer(
    help="Pacte: the contrats locaux des solidarités 2024–2027 as durable workflows.", no_args_is_help=True
)
for command in (server.dev, server.worker, server.api, server.migrate, status.status, contracts.territories):
    app.command()(command)
app.command("search-attributes")(server.search_attributes)
app.command("replay-check")(server.replay_check)
app.command("schedules")(server.schedules)
app.add_typer(contracts.contract_app, name="contract")
app.add_typer(campaigns.campaign_app, name="campaign")
app.command("reminders")(contracts.reminders)
app.add_typer(audit.audit_app, name="audit")
app.command()(simulate.simulate)
app.add_typer(tokens.tokens_app, name="tokens")
app.add_typer(access.access_app, name="access")
app.add_typer(projections.projections_app, name="projections")
app.add_typer(keys.keys_app, name="keys")


def main() -> None:
    app()
