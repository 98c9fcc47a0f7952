"""Refusals. Each carries a stable code (for programs), the field at fault and a sentence (for people)."""

from __future__ import annotations

Param = str | int


class DomainError(Exception):
    """A command the rules refuse. Nothing may be written when one is raised.

    ``code`` is the broad kind (the API's, stable: invalid_value, lifecycle_violation…); ``rule`` names the exact rule
    refused (``action.unknown``, ``date.in_future``…) and ``params`` its values (the value given, the limit, the date),
    so that a reader can say it in its own words: the web interface has a French sentence for every rule id
    (pacte/web/messages.py; tests/unit/test_refusal_rules.py holds every raise site to it)."""

    code: str = "domain_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        rule: str | None = None,
        params: dict[str, Param] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        self.rule = rule or self.code
        self.params: dict[str, Param] = dict(params or {})

    def to_dict(self) -> dict[str, str | None]:
        """The API's problem (its shape is published: code, message, field)."""
        return {"code": self.code, "message": self.message, "field": self.field}

    def details(self) -> dict[str, object]:
        """Everything the refusal says, rule and parameters included: what a workflow's answer carries back."""
        return {**self.to_dict(), "rule": self.rule, "params": self.params}

    @classmethod
    def from_dict(cls, detail: dict[str, object]) -> DomainError:
        """The refusal again from ``details`` (a workflow's answer): an answer of a worker of before rule ids has no
        ``rule`` and falls back to its code."""
        params = detail.get("params")
        rule = detail.get("rule")
        return cls(
            str(detail["message"]),
            field=str(detail["field"]) if detail.get("field") is not None else None,
            code=str(detail["code"]),
            rule=str(rule) if rule else None,
            params={str(k): v for k, v in params.items() if isinstance(v, (str, int))}
            if isinstance(params, dict)
            else None,
        )


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
