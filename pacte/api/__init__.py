"""The HTTP API: one router per resource, each thin over the service layer (``pacte.service``)."""

from pacte.api.app import create_app

__all__ = ["create_app"]
