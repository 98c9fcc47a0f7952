"""Entry points of Pacte: settings, logging, worker, CLI, HTTP API and the embedded development stack."""
