"""Finding a contract among thousands (issue 26, item 4): the contract list filtered, sorted and paged by keyset from
the read model, in one SQL query a page.

contract_summary holds the columns a list shows; contract_search (migration 021) holds what it filters on beside
them — the départements, the name without accents, and ``late_after``: the day after which the contract is late, as
the domain's ``deadline_standings`` judges it (a past date is missed even before the calendar records it). Its rows
are derived from the summary's state here, refreshed when the summary's version or the deadline rules moved, so the
list says "en retard" exactly as the contract page does, on any day, without folding thousands of states a request.

Pages are keyset pages: ``after`` is the last row's (sort key, contract_id), opaque to the caller; contract_id breaks
the ties, so paging visits every contract exactly once however many share a sort key. The scope is in the query:
the rows are exactly those ``may_read`` lets the actor read."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import unicodedata
from datetime import date, datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from domain.actors import Actor, Role
from domain.business_time import PARIS
from domain.deadlines import Standing, deadline_standings
from domain.errors import DomainError
from domain.limits import STORABLE_TEXT
from domain.policy import DEFAULT_POLICY, RULE_CHANGES, Policy
from domain.state import ContractState

# sort name → (SQL expression, the type its cursor value must have)
SORTS: dict[str, tuple[str, type]] = {
    "territoire": ("s.territory_name", str),
    "statut": ("s.status", str),
    "region": ("s.region", str),
    "annee": ("COALESCE(s.current_year, 0)", int),
    "plafond": ("s.annual_ceiling", int),
    "activite": ("s.last_event_at", datetime),
}
Sort = Literal["territoire", "statut", "region", "annee", "plafond", "activite"]
MAX_LIMIT = 200


class ContractQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(
        default="", max_length=100, pattern=STORABLE_TEXT, description="Part of the territory's name, or its id"
    )
    status: str | None = Field(default=None, max_length=20)
    kind: str | None = Field(default=None, max_length=20)
    region: str | None = Field(default=None, max_length=3)
    departement: str | None = Field(default=None, max_length=3)
    year: int | None = Field(default=None, ge=2000, le=2100, description="The contract's current programme year")
    late: bool = Field(default=False, description="Only the contracts with a deadline missed today")
    sort: Sort = "territoire"
    descending: bool = False
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    after: str | None = Field(default=None, max_length=500, description="The `next` of the previous page")


class ContractRow(BaseModel):
    contract_id: str
    territory_id: str
    territory_name: str
    kind: str
    region: str
    departements: list[str]
    status: str
    current_year: int | None
    annual_ceiling: int
    last_event_at: datetime
    missed: int = Field(description="Deadlines missed today (the domain's deadline_standings)")


class ContractPage(BaseModel):
    contracts: list[ContractRow]
    next: str | None = Field(description="Cursor of the next page (`after`), none after the last")
    total: int = Field(description="Contracts matching the filters")
    limit: int
    by_status: dict[str, int] = Field(description="The contracts of the caller's scope by status, filters aside")


def name_key(text: str) -> str:
    """Lower case without accents: "Métropole" and "METROPOLE" are found alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def policy_fingerprint(policy: Policy) -> str:
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:16]


def owed(state: ContractState, policy: Policy) -> tuple[int, list[date]]:
    """What ``deadline_standings`` says on any day, in two parts: the deadlines missed whatever the day (recorded
    missed, not met since), and the due dates of the obligations not yet met (each missed once its date has passed).
    On a day D, the deadlines missed are the first plus those of the second before D."""
    standings = deadline_standings(state, policy, date.min)  # before every date: only the first part is missed
    always = sum(1 for d in standings if d.standing is Standing.MISSED)
    return always, sorted(d.due for d in standings if d.standing is Standing.TO_COME)


def late_after(state: ContractState, policy: Policy) -> date | None:
    """The last day the contract is not late: late on every day after it (``deadline_standings`` has a missed
    deadline exactly then); None when nothing is owed. A deadline recorded missed and not met makes it late on any
    day (date.min)."""
    always, dues = owed(state, policy)
    return date.min if always else min(dues, default=None)


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def _bad_cursor() -> DomainError:
    return DomainError(
        "after: not a cursor of this list (its sort and order): start again from the first page",
        field="after",
        code="invalid_value",
        rule="search.cursor",
    )


def _decode_cursor(query: ContractQuery) -> tuple[Any, str]:
    assert query.after is not None
    try:
        raw = base64.urlsafe_b64decode(query.after + "=" * (-len(query.after) % 4))
        sort, descending, value, contract_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise _bad_cursor() from None
    wanted = SORTS[query.sort][1]
    if sort != query.sort or descending is not query.descending or not _storable(contract_id, 64):
        raise _bad_cursor()
    if wanted is datetime:
        try:
            value = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise _bad_cursor() from None
        if value.tzinfo is None:
            raise _bad_cursor()
    elif not isinstance(value, wanted) or isinstance(value, bool) or not _fits(value):
        raise _bad_cursor()
    return value, contract_id


def _fits(value: object) -> bool:
    """What a bigint holds, or text PostgreSQL takes."""
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return not isinstance(value, str) or _storable(value, 200)


def _storable(value: object, longest: int) -> bool:
    """Text PostgreSQL takes as a parameter (no NUL), of a sane length."""
    return isinstance(value, str) and len(value) <= longest and "\x00" not in value


def _scope(actor: Actor, args: list[Any]) -> str:
    """``may_read`` as SQL: auditors read everything, a préfet its départements, a collectivité itself, a
    commissaire its région; anyone else nothing."""
    everywhere = "*" in actor.scope
    if actor.role is Role.AUDITOR or (actor.role in (Role.PREFET, Role.COMMISSAIRE) and everywhere):
        return "TRUE"
    if actor.role not in (Role.PREFET, Role.COLLECTIVITE, Role.COMMISSAIRE):
        return "FALSE"  # an administrator reads no contract; no parameter for a clause that has none
    args.append(list(actor.scope))
    if actor.role is Role.PREFET:
        return f"c.departements && ${len(args)}::text[]"
    if actor.role is Role.COLLECTIVITE:
        return f"s.territory_id = ANY(${len(args)}::text[])"
    return f"s.region = ANY(${len(args)}::text[])"  # the commissaire


def _filters(query: ContractQuery, today: date, args: list[Any]) -> list[str]:
    where = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if query.text.strip():
        text = query.text.strip()
        pattern = "%" + name_key(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            f"(c.name_key LIKE {arg(pattern)} OR upper(s.territory_id) = {arg(text.upper())} "
            f"OR s.contract_id = {arg(text.lower())})"
        )
    if query.status:
        where.append(f"s.status = {arg(query.status)}")
    if query.kind:
        where.append(f"s.kind = {arg(query.kind)}")
    if query.region:
        where.append(f"s.region = {arg(query.region)}")
    if query.departement:
        where.append(f"c.departements && ARRAY[{arg(query.departement)}::text]")
    if query.year is not None:
        where.append(f"s.current_year = {arg(query.year)}")
    if query.late:
        where.append(f"c.late_after < {arg(today)}")
    return where


async def refresh(pool: asyncpg.Pool, policy: Policy) -> int:
    """Derive the search rows of the contracts whose summary moved since (or whose rules changed); return how many."""
    fingerprint = policy_fingerprint(policy)
    stale = await pool.fetch(
        """SELECT s.state::text AS state FROM contract_summary s LEFT JOIN contract_search c USING (contract_id)
           WHERE c.contract_id IS NULL OR c.version <> s.version OR c.policy <> $1""",
        fingerprint,
    )
    if not stale:
        return 0
    states = [ContractState.model_validate_json(row["state"]) for row in stale]
    owing = [owed(s, policy) for s in states]
    await pool.execute(
        """INSERT INTO contract_search (contract_id, version, policy, departements, name_key, late_after,
                                        always_missed, pending_dues)
           SELECT t.contract_id, t.version, t.policy, t.departements::text[], t.name_key, t.late_after,
                  t.always_missed, t.pending_dues::date[]
           FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::date[], $7::int[], $8::text[])
                AS t(contract_id, version, policy, departements, name_key, late_after, always_missed, pending_dues)
           ON CONFLICT (contract_id) DO UPDATE SET version = EXCLUDED.version, policy = EXCLUDED.policy,
               departements = EXCLUDED.departements, name_key = EXCLUDED.name_key, late_after = EXCLUDED.late_after,
               always_missed = EXCLUDED.always_missed, pending_dues = EXCLUDED.pending_dues
           WHERE contract_search.version <= EXCLUDED.version""",
        [s.contract_id for s in states],
        [s.version for s in states],
        [fingerprint] * len(states),
        # a text[] per row, through a text (unnest of a 2-D array would flatten it): "{33,40}"
        ["{" + ",".join(s.departements) + "}" for s in states],
        [name_key(s.territory_name) for s in states],
        [date.min if always else min(dues, default=None) for always, dues in owing],
        [always for always, _ in owing],
        ["{" + ",".join(d.isoformat() for d in dues) + "}" for _, dues in owing],
    )
    return len(states)


async def find(
    pool: asyncpg.Pool, actor: Actor, query: ContractQuery, policy: Policy | None = None, today: date | None = None
) -> ContractPage:
    policy = policy or DEFAULT_POLICY.with_changes(RULE_CHANGES)
    today = today or datetime.now(PARIS).date()
    await refresh(pool, policy)
    args: list[Any] = []
    where = [_scope(actor, args), *_filters(query, today, args)]
    base = "FROM contract_summary s JOIN contract_search c USING (contract_id) WHERE " + " AND ".join(where)
    total = await pool.fetchval(f"SELECT count(*) {base}", *args)
    scope_args: list[Any] = []
    by_status = await pool.fetch(
        "SELECT s.status, count(*) AS n FROM contract_summary s JOIN contract_search c USING (contract_id) "
        f"WHERE {_scope(actor, scope_args)} GROUP BY s.status",
        *scope_args,
    )
    expression = SORTS[query.sort][0]
    direction = "DESC" if query.descending else "ASC"
    page_args = list(args)
    keyset = ""
    if query.after:
        value, contract_id = _decode_cursor(query)
        page_args += [value, contract_id]
        compare = "<" if query.descending else ">"
        keyset = f" AND ({expression}, s.contract_id) {compare} (${len(page_args) - 1}, ${len(page_args)})"
    page_args += [today, query.limit + 1]
    rows = await pool.fetch(
        f"""SELECT s.contract_id, s.territory_id, s.territory_name, s.kind, s.region, c.departements, s.status,
                   s.current_year, s.annual_ceiling, s.last_event_at,
                   c.always_missed + (SELECT count(*) FROM unnest(c.pending_dues) AS d WHERE d < ${len(page_args) - 1})
                       AS missed,
                   {expression} AS sort_value
            {base}{keyset}
            ORDER BY {expression} {direction}, s.contract_id {direction}
            LIMIT ${len(page_args)}""",
        *page_args,
    )
    shown = rows[: query.limit]
    contracts = []
    for row in shown:
        contracts.append(ContractRow(**{k: row[k] for k in ContractRow.model_fields}))
    following = None
    if len(rows) > query.limit:
        last = shown[-1]
        value = last["sort_value"]
        following = encode_cursor(
            [
                query.sort,
                query.descending,
                value.isoformat() if isinstance(value, datetime) else value,
                last["contract_id"],
            ]
        )
    return ContractPage(
        contracts=contracts,
        next=following,
        total=total,
        limit=query.limit,
        by_status={row["status"]: row["n"] for row in by_status},
    )
