"""Refusals. Each carries a stable code (for programs), the field at fault and a sentence (for people)."""

from __future__ import annotations


class DomainError(Exception):
    """A command the rules refuse. Nothing may be written when one is raised."""

    code: str = "domain_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class ValidationRefused(DomainError):
    code = "invalid_value"


class UnknownTerritory(DomainError):
    code = "unknown_territory"


class Forbidden(DomainError):
    code = "forbidden"


class OutOfScope(DomainError):
    code = "out_of_scope"


class IdempotencyKeyReused(DomainError):
    """A client's idempotency key already named a different request on this contract."""

    code = "idempotency_key_reused"


class LifecycleViolation(DomainError):
    code = "lifecycle_violation"


class CoFinancingViolation(DomainError):
    code = "co_financing_50_50"


class CeilingExceeded(DomainError):
    code = "annual_ceiling_exceeded"


class AxisViolation(DomainError):
    code = "axis_rule"


class DateViolation(DomainError):
    code = "date_out_of_programme"
