"""A form for every operator command, declared once: its fields (labelled in French, named by the path of the value
in the command's body), how a posted form becomes that body, and where a refusal is shown (the problem's ``field``
names the input, or the group, it belongs to). The command itself goes through the service layer like any other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from domain.actors import Actor
from domain.avenants import renewal_years
from domain.errors import DomainError
from domain.limits import MAX_INDICATORS
from domain.money import MoneyFormatError, parse_euros
from domain.policy import DEFAULT_POLICY
from domain.rules.parties import party_of
from domain.state import ContractState
from domain.values import Action, Indicator
from pacte.web.formats import (
    AXES,
    DECISIONS,
    DELIBERATING_BODIES,
    NATURES,
    PARTIES,
    REINFORCEMENTS,
    euros,
    typed_date,
)

YEARS = tuple(DEFAULT_POLICY.years)


@dataclass(frozen=True)
class Input:
    name: str  # the value's path in the body: "deliberation.voted_on", "action.amounts.2024.etat"
    label: str
    kind: str = "text"  # text, textarea, date, euros, integer, select
    options: tuple[tuple[str, str], ...] = ()
    required: bool = True
    hint: str = ""
    value: str = ""  # what the form shows first (a change prefilled from the state)


@dataclass(frozen=True)
class Group:
    """A fieldset: inputs read together (one year's amounts, one action's spending), and a refusal of the whole."""

    name: str
    legend: str
    inputs: tuple[Input, ...]
    hint: str = ""
    whole: bool = False  # every input filled (each fiche's figure in a report): an empty one is refused there


@dataclass(frozen=True)
class Form:
    kind: str  # the form's name: the command it sends, or a variant of it ("AmendAddAction" sends Amend)
    title: str
    build: Callable[[ContractState, dict[str, str]], list[Input | Group]]
    irreversible: bool = False  # a confirmation page comes first (signature, termination, closing)
    key: str | None = None  # what the form is about, chosen first (action_id, avenant_id)
    explanation: str = ""
    command: str = ""  # the command it sends, when it is not ``kind``
    key_in_path: bool = True  # the key is the command's path parameter (not only what the form is prefilled from)
    # An edit sent back as it was opened: nothing to send (the page says "Rien n'a changé"), when the command itself
    # would not say so (an avenant changing a fiche into itself would be an avenant to sign that changes nothing).
    unchanged: Callable[[ContractState, dict[str, Any]], bool] | None = None

    @property
    def sends(self) -> str:
        return self.command or self.kind


OCCURRED = Input(
    "occurred_at",
    "Date du fait",
    "date",
    required=False,
    hint="Le jour où c'est arrivé, s'il n'est pas aujourd'hui (jamais dans le futur).",
)


SOURCE = Input(
    "source",
    "Pièce justificative",
    required=False,
    hint="La référence du document d'où vient ce fait (courrier, délibération, procès-verbal…).",
)


def propose_fields(territories: tuple[tuple[str, str], ...]) -> list[Input | Group]:
    """The proposal's form ("Proposer un contrat"): the territories the préfet may choose, the annual ceiling, then
    what every fact carries. Read by ``body_of`` like every other command's form (one conversion of dates and
    amounts), and sent as the catalogue's ``ProposeBody``; the first draft's fiches actions are the API's."""
    return [
        Input("territory", "Territoire", "select", territories),
        Input("annual_ceiling", "Plafond annuel des crédits de l'État", "euros", hint="En euros : 1 500 000,00 €"),
        replace(OCCURRED, label="Date de la proposition", hint="Aujourd'hui si vide (jamais dans le futur)."),
        SOURCE,
    ]


def fields_for(
    form: Form, state: ContractState, key_value: str = "", actor: Actor | None = None
) -> list[Input | Group]:
    """The form's inputs for this contract (its actions, its avenants), then what every fact carries: the date it
    happened and its source. With the person who fills it, a choice offers only what they may choose (their own
    party)."""
    params = {form.key: key_value} if form.key else {}
    if actor is not None:
        params[PARTY] = party_of(actor).value
    return [*form.build(state, params), OCCURRED, SOURCE]


PARTY = "__party"  # the party of whoever fills the form, for the choices of a signature


def _parties(params: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The parties a person may sign for: their own (``rules.parties.party_of``, what the decider checks)."""
    own = params.get(PARTY)
    return tuple((v, label) for v, label in PARTIES.items() if own is None or v == own)


def _pending_amendments(state: ContractState) -> tuple[tuple[str, str], ...]:
    return tuple(
        (a, f"{a} ({avenant.year})")
        for a, avenant in sorted(state.avenants.items())
        if not avenant.concluded and avenant.kind.value == "amendment"
    )


def _choices(table: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(table.items())


def _years(state: ContractState) -> tuple[tuple[str, str], ...]:
    return tuple((str(y), str(y)) for y in YEARS)


def renewal_choices(state: ContractState) -> tuple[tuple[str, str], ...]:
    """Only the year a renewal may be for (the decider's ``renewal_years``)."""
    return tuple((str(y), str(y)) for y in renewal_years(state.current_year, DEFAULT_POLICY.last_year))


def _action_fields(state: ContractState, params: dict[str, str], prefix: str = "action") -> list[Input | Group]:
    current = state.actions.get(params.get("action_id", ""))
    values: dict[str, str] = {}
    if current is not None:
        values = {
            "action_id": current.action_id,
            "axis": current.axis.value,
            "objective": current.objective,
            "title": current.title,
            "nature": current.nature.value,
            "reinforcement": current.reinforcement.value if current.reinforcement else "",
            "public": current.public,
            "zone": current.zone,
        }
        for y, a in current.amounts.items():
            values |= {f"{y}.etat": euros(a.etat), f"{y}.collectivite": euros(a.collectivite)}
            values |= {f"{y}.partenaires": euros(a.partenaires)}
    p = prefix
    fields: list[Input | Group] = [
        Input(
            f"{p}.action_id",
            "Identifiant de la fiche",
            hint="Lettres, chiffres, tirets : A1, ENF-01…",
            value=values.get("action_id", ""),
        ),
        Input(
            f"{p}.axis",
            "Axe",
            "select",
            tuple((v, label) for v, label in AXES.items() if v in {a.value for a in state.axes}),  # the contract's
            value=values.get("axis", ""),
        ),
        Input(f"{p}.title", "Intitulé", value=values.get("title", "")),
        Input(f"{p}.objective", "Objectif", value=values.get("objective", "")),
        Input(f"{p}.nature", "Nature", "select", _choices(NATURES), value=values.get("nature", "")),
        Input(
            f"{p}.reinforcement",
            "Renforcement",
            "select",
            _choices(REINFORCEMENTS),
            required=False,
            hint="Seulement pour une action renforcée.",
            value=values.get("reinforcement", ""),
        ),
        Input(f"{p}.public", "Public visé", value=values.get("public", "")),
        Input(f"{p}.zone", "Zone", value=values.get("zone", "")),
        *_indicator_rows(current.indicators if current is not None else (), p),
        Group(
            f"{p}.amounts",
            "Montants par année",
            tuple(
                Input(
                    f"{p}.amounts.{y}.{who}",
                    f"{y} — {label}",
                    "euros",
                    required=False,
                    value=values.get(f"{y}.{who}", ""),
                )
                for y in YEARS
                for who, label in (("etat", "État"), ("collectivite", "Collectivité"), ("partenaires", "Partenaires"))
            ),
            hint="En euros (1 500 000,00 €). Chaque action est financée à parts égales par l'État et la collectivité ; "
            "une année laissée vide n'est pas financée.",
        ),
    ]
    return fields


def _indicator_rows(indicators: tuple[Indicator, ...], prefix: str) -> list[Group]:
    """One fieldset per indicator the fiche has, each with a box to remove it, then a blank one to add an indicator
    (a row left blank adds nothing): an edit opens with every indicator, and sends back every one it keeps."""
    rows: list[Group] = []
    # At least two rows: a new fiche is entered with its two indicators at once (a user walk found one row only,
    # which took a second recorded fact to add the second).
    for index in range(min(max(len(indicators) + 1, 2), MAX_INDICATORS)):
        current = indicators[index] if index < len(indicators) else None
        row = f"{prefix}.indicators.{index}"
        targets = current.targets if current is not None else {}
        rows.append(
            Group(
                row,
                f"Indicateur {index + 1}" if current is not None else "Ajouter un indicateur",
                (
                    Input(f"{row}.code", "Code", value=current.code if current else ""),
                    Input(f"{row}.label", "Libellé", value=current.label if current else ""),
                    Input(
                        f"{row}.baseline", "Valeur de départ", "integer", value=str(current.baseline) if current else ""
                    ),
                    *(
                        Input(f"{row}.targets.{y}", f"Cible {y}", "integer", required=False, value=_count(targets, y))
                        for y in YEARS
                    ),
                    *(
                        (Input(f"{row}.{REMOVE}", "Retirer cet indicateur", "remove", required=False),)
                        if current
                        else ()
                    ),
                ),
                hint="Une cible pour chaque année financée."
                if current is not None or index == 0
                else "Facultatif : rempli, il s'ajoute aux indicateurs de la fiche.",
            )
        )
    return rows


def _count(values: dict[int, int], year: int) -> str:
    return str(values[year]) if year in values else ""


def _per_action(state: ContractState, name: str, legend: str, kind: str = "euros", *, required: bool = False) -> Group:
    """One input per fiche action; ``required`` when every fiche is to be given (the mid-term evaluation, a report's
    figures: 0 if nothing was spent — an empty report would recover every euro)."""
    return Group(
        name,
        legend,
        tuple(
            Input(f"{name}.{action_id}", f"{action_id} — {action.title}", kind, required=required)
            for action_id, action in sorted(state.actions.items())
        ),
        whole=required,
    )


def _indicator_values(state: ContractState) -> Group:
    return Group(
        "indicator_values",
        "Valeurs des indicateurs mesurées",
        tuple(
            Input(
                f"indicator_values.{action_id}.{indicator.code}",
                f"{action_id} — {indicator.label} ({indicator.code})",
                "integer",
                required=False,
            )
            for action_id, action in sorted(state.actions.items())
            for indicator in action.indicators
        ),
    )


def _year_amounts(state: ContractState) -> list[Input | Group]:
    return [
        Group(
            f"amounts.{action_id}",
            f"{action_id} — {action.title}",
            tuple(
                Input(f"amounts.{action_id}.{who}", label, "euros", required=False)
                for who, label in (("etat", "État"), ("collectivite", "Collectivité"), ("partenaires", "Partenaires"))
            ),
        )
        for action_id, action in sorted(state.actions.items())
    ]


def _spent(state: ContractState) -> list[Input | Group]:
    """An execution report's year and amounts spent (submitted, or rectified)."""
    return [
        Input("year", "Année", "select", _years(state)),
        _per_action(state, "etat_spent", "Crédits de l'État dépensés, par fiche action", required=True),
        _per_action(
            state, "collectivite_spent", "Crédits de la collectivité dépensés, par fiche action", required=True
        ),
    ]


def _fiche_unchanged(state: ContractState, body: dict[str, Any], part: str) -> bool:
    """The avenant's only change is a fiche sent back exactly as the contract holds it."""
    terms = body.get("terms", {})
    fiches = terms.get(part, [])
    if body.get("amounts") or set(terms) != {part} or len(fiches) != 1:
        return False
    try:
        fiche = Action.model_validate(fiches[0])
    except ValidationError:
        return False  # the command's schema will say what is wrong
    return state.actions.get(fiche.action_id) == fiche


def _amendment(state: ContractState) -> list[Input | Group]:
    """What every amendment names: its reference and its year."""
    return [
        Input("amendment_id", "Référence de l'avenant", hint="Lettres, chiffres, tirets : AV-2025-1"),
        Input("year", "Année", "select", _years(state), value=str(state.current_year or "")),
    ]


def _reason(label: str = "Motif") -> Input:
    return Input("reason", label, "textarea")


FORMS: dict[str, Form] = {
    form.kind: form
    for form in (
        Form("AddAction", "Ajouter une fiche action", lambda s, p: _action_fields(s, p)),
        Form("ChangeAction", "Modifier une fiche action", lambda s, p: _action_fields(s, p), key="action_id"),
        Form("RemoveAction", "Retirer une fiche action", lambda s, p: [], key="action_id"),
        Form(
            "RecordDeliberation",
            "Enregistrer la délibération",
            lambda s, p: [
                Input("deliberation.body", "Instance", "select", _choices(DELIBERATING_BODIES)),
                Input("deliberation.voted_on", "Votée le", "date"),
                Input("deliberation.reference", "Référence de la délibération"),
            ],
        ),
        Form(
            "SignContract",
            "Signer le contrat",
            lambda s, p: [
                Input("party", "Partie", "select", _parties(p)),
                Input("signatory", "Signataire", hint="Nom et qualité de la personne qui signe."),
            ],
            irreversible=True,
            explanation="Une signature engage la partie : elle ne peut être retirée, seulement sa date rectifiée.",
        ),
        Form(
            "RecordCommitteeReview",
            "Enregistrer un comité de suivi",
            lambda s, p: [
                Input("year", "Année", "select", _years(s), value=str(s.current_year or "")),
                Input("review_date", "Date du comité", "date"),
                _per_action(s, "spending", "Crédits de l'État consommés à ce jour, par fiche action"),
                _indicator_values(s),
                Input("findings", "Constats", "textarea"),
                Input("decision", "Décision", "select", _choices(DECISIONS)),
            ],
        ),
        Form(
            "Renew",
            "Avenant de renouvellement",
            lambda s, p: [Input("year", "Année renouvelée", "select", renewal_choices(s)), *_year_amounts(s)],
        ),
        Form(
            "Amend",
            "Proposer un avenant",
            lambda s, p: [
                Input("amendment_id", "Référence de l'avenant", hint="Lettres, chiffres, tirets : AV-2025-1"),
                Input("year", "Année", "select", _years(s)),
                *_year_amounts(s),
                Input("terms.annual_ceiling", "Nouveau plafond annuel", "euros", required=False),
                Input(
                    "terms.follows_review_of",
                    "Répond au comité de l'année",
                    "select",
                    _years(s),
                    required=False,
                ),
                Input(
                    "replaces",
                    "Remplace la proposition",
                    "select",
                    _pending_amendments(s),
                    required=False,
                    hint="Une proposition d'avenant non conclue que vous aviez faite : elle est retirée.",
                ),
                _reason(),
            ],
        ),
        # An avenant's fiches actions, one form each: added, changed (prefilled from the fiche), removed.
        Form(
            "AmendAddAction",
            "Avenant : ajouter une fiche action",
            lambda s, p: [*_amendment(s), *_action_fields(s, p, "terms.added_actions.0"), _reason()],
            command="Amend",
        ),
        Form(
            "AmendChangeAction",
            "Avenant : modifier une fiche action",
            lambda s, p: [*_amendment(s), *_action_fields(s, p, "terms.changed_actions.0"), _reason()],
            key="action_id",
            command="Amend",
            key_in_path=False,
            unchanged=lambda s, body: _fiche_unchanged(s, body, "changed_actions"),
        ),
        Form(
            "AmendRemoveAction",
            "Avenant : retirer une fiche action",
            lambda s, p: [
                *_amendment(s),
                Input(
                    "terms.removed_actions.0",
                    "Fiche action retirée",
                    "select",
                    tuple((a, f"{a} — {action.title}") for a, action in sorted(s.actions.items())),
                ),
                _reason(),
            ],
            command="Amend",
        ),
        Form(
            "SignAvenant",
            "Signer un avenant",
            lambda s, p: [
                Input("party", "Partie", "select", _parties(p)),
                Input("signatory", "Signataire", hint="Nom et qualité de la personne qui signe."),
            ],
            irreversible=True,
            key="avenant_id",
            explanation="Un avenant signé par les deux parties est conclu : ses montants s'appliquent.",
        ),
        Form(
            "WithdrawAvenant",
            "Retirer une proposition d'avenant",
            lambda s, p: [_reason("Motif du retrait")],
            irreversible=True,
            key="avenant_id",
            explanation="Seule la partie qui a proposé l'avenant le retire, tant qu'il n'est pas conclu ; ses "
            "signatures ne comptent plus. Un renouvellement retiré reste dû pour son année.",
        ),
        Form(
            "SubmitExecutionReport",
            "Déposer le rapport d'exécution",
            lambda s, p: _spent(s),
        ),
        Form(
            "RecordMidTermEvaluation",
            "Évaluation à mi-parcours",
            lambda s, p: [
                _per_action(s, "evaluations", "Évaluation de chaque fiche action", "textarea", required=True)
            ],
        ),
        Form("Suspend", "Suspendre le contrat", lambda s, p: [_reason()]),
        Form("Resume", "Reprendre le contrat", lambda s, p: [_reason()]),
        Form(
            "Terminate",
            "Résilier le contrat",
            lambda s, p: [_reason()],
            irreversible=True,
            explanation="La résiliation met fin au contrat : les années exécutées sont soldées, rien ne peut plus "
            "y être enregistré.",
        ),
        Form(
            "CloseContract",
            "Clôturer le contrat",
            lambda s, p: [
                Input(
                    "declared_reversement",
                    "Reversement déclaré",
                    "euros",
                    required=False,
                    hint="Ce que la collectivité déclare reverser ; il doit égaler le solde calculé.",
                ),
            ],
            irreversible=True,
            explanation="La clôture arrête le solde au centime près ; le contrat ne peut plus changer.",
        ),
        Form(
            "RectifyExecutionReport",
            "Rectifier un rapport d'exécution",
            lambda s, p: [*_spent(s), _reason("Motif de la rectification")],
        ),
        Form(
            "RectifySignature",
            "Rectifier la date d'une signature",
            lambda s, p: [
                Input("party", "Partie", "select", _parties(p)),
                Input("signed_on", "Signée le", "date"),
                _reason("Motif de la rectification"),
            ],
        ),
        Form(
            "RecordEnvelope",
            "Enveloppe de l'État",
            lambda s, p: [
                Input("year", "Année du programme", "select", _years(s)),
                Input("movement", "Mouvement", "select", _choices(ENVELOPE_MOVEMENTS)),
                Input("amount", "Montant", "euros", hint="En euros : 1 500 000,00 €"),
                Input("reference", "Référence", hint="Le courrier de notification, le décret de gel ou d'annulation."),
            ],
            explanation="L'enveloppe notifiée, moins ce qui est gelé ou annulé, est ce que l'État peut engager.",
        ),
        Form(
            "RecordCommitment",
            "Engagement juridique",
            lambda s, p: [
                Input("year", "Année du programme", "select", _years(s)),
                Input("ej_number", "Numéro d'engagement juridique (Chorus)", hint="10 chiffres."),
                Input("amount", "Montant engagé", "euros", hint="En euros : 1 500 000,00 €"),
            ],
        ),
        Form(
            "RecordPayment",
            "Versement",
            lambda s, p: [
                Input("ej_number", "Numéro d'engagement juridique (Chorus)", hint="10 chiffres."),
                Input("instalment", "Tranche", "select", _choices(INSTALMENTS)),
                Input("amount", "Montant versé", "euros", hint="En euros : 1 500 000,00 €"),
                Input("document", "Numéro de la demande de paiement"),
            ],
        ),
        Form(
            "IssueRecoveryOrder",
            "Titre de perception",
            lambda s, p: [
                Input("year", "Année du programme", "select", _years(s)),
                Input("titre_number", "Numéro du titre de perception"),
                Input("amount", "Montant réclamé", "euros", hint="En euros : 1 500 000,00 €"),
            ],
        ),
        Form(
            "RecordRecoveryCollected",
            "Recouvrement",
            lambda s, p: [
                Input("titre_number", "Numéro du titre de perception"),
                Input("amount", "Montant recouvré", "euros", hint="En euros : 1 500 000,00 €"),
            ],
        ),
    )
}
ENVELOPE_MOVEMENTS = {
    "notification": "Notification",
    "freeze": "Gel (mise en réserve)",
    "release": "Dégel",
    "cancellation": "Annulation",
}
INSTALMENTS = {i.name: i.name.capitalize() for i in DEFAULT_POLICY.instalments}
# The web's names for the forms (its URLs are French, like its pages).
SLUGS = {
    "AddAction": "ajouter-une-action",
    "ChangeAction": "modifier-une-action",
    "RemoveAction": "retirer-une-action",
    "RecordDeliberation": "deliberation",
    "SignContract": "signature",
    "RecordCommitteeReview": "comite-de-suivi",
    "Renew": "renouvellement",
    "Amend": "avenant",
    "AmendAddAction": "avenant-ajouter-une-action",
    "AmendChangeAction": "avenant-modifier-une-action",
    "AmendRemoveAction": "avenant-retirer-une-action",
    "SignAvenant": "signature-avenant",
    "WithdrawAvenant": "retrait-avenant",
    "SubmitExecutionReport": "rapport-execution",
    "RecordMidTermEvaluation": "evaluation-mi-parcours",
    "Suspend": "suspension",
    "Resume": "reprise",
    "Terminate": "resiliation",
    "CloseContract": "cloture",
    "RectifyExecutionReport": "rectification-rapport",
    "RectifySignature": "rectification-signature",
    "RecordEnvelope": "enveloppe",
    "RecordCommitment": "engagement",
    "RecordPayment": "versement",
    "IssueRecoveryOrder": "titre-de-perception",
    "RecordRecoveryCollected": "recouvrement",
}
KIND_BY_SLUG = {slug: kind for kind, slug in SLUGS.items()}
LIST_FIELDS = {
    "indicators",
    "added_actions",
    "changed_actions",
    "removed_actions",
}  # numbered inputs that make a list, not a map
REMOVE = "retirer"  # a row's box: checked, the row is left out of the body (an indicator removed)


def inputs_of(fields: list[Input | Group]) -> list[Input]:
    return [i for f in fields for i in (f.inputs if isinstance(f, Group) else (f,))]


def _convert(item: Input, raw: str) -> Any:
    if item.kind == "euros":
        try:
            return parse_euros(raw)
        except MoneyFormatError as exc:
            raise DomainError(
                f"{item.name}: {exc}",
                field=item.name,
                code="invalid_value",
                rule="invalid_amount",
                params={"value": raw[:40]},
            ) from None
    if item.kind == "integer":
        try:
            return int(raw.replace(" ", "").replace("\u202f", ""))
        except ValueError:
            raise DomainError(
                f"{item.name}: a whole number",
                field=item.name,
                code="invalid_value",
                rule="invalid_integer",
                params={"value": raw[:40]},
            ) from None
    if item.kind == "date":
        return typed_date(raw, item.name).isoformat()
    return raw


def _listify(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        value = {k: _listify(v, k) for k, v in value.items()}
        if name in LIST_FIELDS and all(k.isdigit() for k in value):
            return [value[k] for k in sorted(value, key=int)]
    return value


class FormRefused(Exception):
    """Values of a form that cannot be read (every one of them, not only the first), and the body made of the others
    (so that the command's schema can say at once what else is wrong)."""

    def __init__(self, refusals: list[DomainError], partial: dict[str, Any]) -> None:
        super().__init__("; ".join(r.message for r in refusals))
        self.refusals = refusals
        self.partial = partial


def body_of(fields: list[Input | Group], posted: dict[str, str]) -> dict[str, Any]:
    """The command's body from a posted form: empty optional inputs are left out, amounts parsed from euros; a year
    whose amounts are all empty is not funded (it is left out, not zero). Values that cannot be read are all refused
    together (``FormRefused``)."""
    body: dict[str, Any] = {}
    refusals: list[DomainError] = []
    items = inputs_of(fields)
    removed = tuple(i.name.removesuffix(REMOVE) for i in items if i.kind == "remove" and posted.get(i.name))
    for group in (f for f in fields if isinstance(f, Group) and f.whole):
        refusals += [
            DomainError(f"{i.name}: required", field=i.name, code="invalid_value", rule="value.required")
            for i in group.inputs
            if not posted.get(i.name, "").strip()
        ]
    for item in items:
        typed = posted.get(item.name, "")
        if typed.strip() == "" or item.kind == "remove" or item.name.startswith(removed):
            continue  # a missing value is the service's to refuse, naming the field, like any other rule
        # Text is kept as typed (an edit sent back untouched changes nothing); a browser sends a textarea's line
        # breaks as CRLF. Numbers, amounts, dates and choices are read without the spaces around them.
        raw = typed.replace("\r\n", "\n") if item.kind in ("text", "textarea") else typed.strip()
        node = body
        *parents, leaf = item.name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        try:
            node[leaf] = _convert(item, raw)
        except DomainError as refused:
            refusals.append(refused)
    # One year (or one fiche) given partly: the unfilled parts (each labelled facultatif) count as zero, so the 50/50
    # rule speaks — also when another value of the form could not be read (a user walk read "Ce champ est obligatoire"
    # at "2025 — Collectivité (facultatif)").
    for parent in {i.name.rsplit(".", 1)[0] for i in items if i.kind == "euros" and i.name.endswith(".etat")}:
        node: Any = body
        for part in parent.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.setdefault("etat", 0)
            node.setdefault("collectivite", 0)
    if refusals:
        raise FormRefused(refusals, _listify(body))
    return _listify(body)


def where(fields: list[Input | Group], error_field: str | None) -> str | None:
    """The input or group a refusal belongs to: the one it names, or the closest that holds it. A refusal of what
    several inputs make together (the year's total above the ceiling: ``amounts``) belongs to none of them — it is
    said in the form's summary (None), never at the first input it holds (a user walk read a ceiling rule at the
    first fiche's amounts)."""
    if not error_field:
        return None
    names = [g.name for g in fields if isinstance(g, Group)] + [i.name for i in inputs_of(fields)]
    if error_field in names:
        return error_field
    holders = [n for n in names if error_field.startswith(n + ".")]
    if holders:
        return max(holders, key=len)
    return None
