"""Refusals. Each carries a stable code (for programs), the field at fault and a sentence (for people)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
        self.others: tuple[DomainError, ...] = ()  # the command's other refusals, independent of this one

    @property
    def all(self) -> list[DomainError]:
        """Every refusal of the command: this one (the first found), then the others found with it."""
        return [self, *self.others]

    def one(self) -> dict[str, object]:
        """This refusal alone: code, message, field, rule and parameters."""
        return {
            "code": self.code,
            "message": self.message,
            "field": self.field,
            "rule": self.rule,
            "params": self.params,
        }

    def to_dict(self) -> dict[str, object]:
        """The API's problem. Its published shape — code, message, field — is the first refusal's; ``errors`` lists
        every refusal of the command (the first included), each with its rule and parameters."""
        return {"code": self.code, "message": self.message, "field": self.field, "errors": [e.one() for e in self.all]}

    def details(self) -> dict[str, object]:
        """Everything the refusal says, rule and parameters included: what a workflow's answer carries back."""
        return {**self.one(), "errors": [e.one() for e in self.others]} if self.others else self.one()

    @classmethod
    def from_dict(cls, detail: dict[str, object]) -> DomainError:
        """The refusal again from ``details`` (a workflow's answer): an answer of a worker of before rule ids has no
        ``rule`` and falls back to its code; one of before several refusals has no ``errors``."""
        params = detail.get("params")
        rule = detail.get("rule")
        error = cls(
            str(detail["message"]),
            field=str(detail["field"]) if detail.get("field") is not None else None,
            code=str(detail["code"]),
            rule=str(rule) if rule else None,
            params={str(k): v for k, v in params.items() if isinstance(v, (str, int))}
            if isinstance(params, dict)
            else None,
        )
        others = detail.get("errors")
        if isinstance(others, list):
            error.others = tuple(cls.from_dict(o) for o in others if isinstance(o, dict))
        return error


class Refusals:
    """The refusals of checks independent of each other, collected so that a command is refused with all of them at
    once (two fiches each off the 50/50 rule, an amount and a date): ``with refusals.check(): ...`` around each check,
    then ``refusals.raise_found()``. The first refusal found is the one raised (the API's ``code``, ``message`` and
    ``field``: the one a check-at-a-time decider raised), the others ride with it (``DomainError.others``).

    Only checks that do not depend on one another are collected; a check whose premise another refuses (an unknown
    fiche's amounts) comes after ``raise_found``."""

    def __init__(self) -> None:
        self.found: list[DomainError] = []

    @contextmanager
    def check(self) -> Iterator[None]:
        try:
            yield
        except DomainError as error:
            self.found.extend(error.all)

    def raise_found(self) -> None:
        if self.found:
            raise together(self.found)


def together(errors: list[DomainError]) -> DomainError:
    """The first refusal, carrying the others (each once)."""
    unique: dict[tuple[object, ...], DomainError] = {}
    for error in errors:
        unique.setdefault((error.rule, error.field, *sorted(error.params.items())), error)
    first, *others = unique.values()
    first.others = tuple(others)
    return first


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
