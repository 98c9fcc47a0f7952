"""Refusals in the agents' words. Every refusal names its rule (``DomainError.rule``, or pydantic's error type for a
value the command's schema refuses) with its parameters (the value given, the limit, the date); each rule has a French
sentence here, its placeholders filled from those parameters and written as agents read them (amounts in euros, dates
in words). tests/unit/test_refusal_rules.py finds every place that raises a refusal and holds it to this table. The
domain's own sentence (English, like the API and the logs) stays available as the technical detail."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

# The broad codes (DomainError.code), each the sentence of a refusal that names no finer rule.
CODES = {
    "invalid_value": "Cette valeur n'est pas acceptée.",
    "missing": "Ce champ est obligatoire.",
    "unknown_territory": "Ce territoire n'est pas dans le référentiel.",
    "forbidden": "Votre rôle ne permet pas cet acte.",
    "out_of_scope": "Ce contrat n'est pas dans votre périmètre.",
    "idempotency_key_reused": "Cette demande a déjà été envoyée avec un contenu différent.",
    "lifecycle_violation": "Cet acte n'est pas possible à ce stade du contrat.",
    "co_financing_50_50": "Chaque action est financée à parts égales : le montant de l'État doit être égal à celui "
    "de la collectivité, pour chaque année.",
    "annual_ceiling_exceeded": "Les montants de l'État dépassent le plafond annuel du contrat.",
    "axis_rule": "Cet axe n'est pas un axe de ce contrat.",
    "date_out_of_programme": "Cette date ou cette année est hors du programme 2024–2027.",
    "already_exists": "Cela existe déjà.",
    "not_found": "Introuvable.",
    "payload_refused": "Cette demande n'a pas été émise par Pacte : elle est refusée et rien n'a changé.",
    "timeout": "Le contrat n'a pas répondu à temps ; renvoyez le formulaire : un envoi répété n'enregistre rien "
    "deux fois.",
    "store_unavailable": "Le registre des événements est momentanément indisponible ; réessayez.",
    "outcome_unknown": "Le registre des événements n'a pas confirmé l'enregistrement ; renvoyez le formulaire dans "
    "quelques instants pour savoir s'il a été enregistré (un envoi répété n'enregistre rien deux fois).",
    "store_conflict": "Le registre contient un fait que ce contrat n'a pas écrit : contactez l'équipe d'exploitation.",
    "store_refused": "Le registre des événements a refusé cette valeur.",
    "store_diverged": "Le registre des événements ne correspond plus à ce contrat : rien n'est enregistré tant que "
    "l'équipe d'exploitation ne l'a pas examiné.",
    "balance_mismatch": "Le reversement déclaré ne correspond pas au solde calculé.",
    "contract_full": "Le contrat a atteint sa taille maximale.",
    "domain_error": "Cette demande est refusée.",
}

# The rules (DomainError.rule), by the id their raise site gives.
RULES = {
    # the record
    "store.diverged": "Le registre des événements ne correspond plus au contrat {contract_id} (des faits y ont été "
    "écrits hors de Pacte, ou il en manque) : rien n'est enregistré ni affiché tant que l'équipe d'exploitation ne "
    "l'a pas examiné. Réessayer n'y changera rien.",
    # values typed in a form
    "invalid_date": "« {value} » n'est pas une date : écrivez-la JJ/MM/AAAA (28/03/2024).",
    "invalid_amount": "« {value} » n'est pas un montant : écrivez-le en euros, par exemple 1 500 000,00 €.",
    "invalid_integer": "« {value} » n'est pas un nombre entier.",
    "value.required": "Ce champ est obligatoire.",
    "text.length": "Ce texte est trop long : {limit} caractères au plus.",
    "form.unknown": "Ce formulaire n'existe pas.",
    "payload.not_sealed": "Cette demande n'a pas été scellée par Pacte (clé inconnue ou contenu altéré) : elle est "
    "refusée et rien n'a changé.",
    "request.invalid_json": "Le contenu envoyé n'est pas lisible (JSON invalide).",
    "request.key_reused": "Cette demande a déjà été envoyée avec un contenu différent ; une nouvelle demande a besoin "
    "d'un nouveau formulaire.",
    # who may act
    "role.not_allowed": "Le rôle {role} ne permet pas cet acte ({act}).",
    "role.auditor_reads_only": "Un auditeur consulte et vérifie ; il ne modifie rien.",
    "role.auditors_only": "Les audits et les exports sont réservés aux auditeurs.",
    "role.prefet_only": "Cet acte revient au préfet.",
    "role.dashboard": "Le tableau de bord est réservé à ceux qui suivent des contrats (pas aux administrateurs).",
    "role.campaigns": "Les campagnes sont suivies par les préfets et les auditeurs.",
    "scope.outside": "{name} n'est pas dans votre périmètre.",
    "signin.no_provider": "Aucun fournisseur d'identité n'est configuré.",
    "signin.unknown": "Cette identité de connexion n'existe pas.",
    # the contract
    "contract.not_proposed": "Ce contrat n'a pas encore été proposé : le préfet le propose d'abord.",
    "contract.unknown": "Le contrat {contract} n'existe pas.",
    "contract.bad_id": "Ce n'est pas un identifiant de contrat.",
    "contract.mismatch": "Cet acte ne concerne pas ce contrat.",
    "contract.exists": "Ce contrat existe déjà : il ne peut pas être proposé deux fois.",
    "contract.has_history": "Ce contrat a déjà un historique : une reprise ne concerne qu'un contrat que Pacte ne "
    "connaît pas encore.",
    "contract.ended": "Le contrat est {status} : plus rien ne peut y être enregistré.",
    "contract.full": "Le contrat a atteint sa taille maximale ({limit} faits) ; contactez les administrateurs.",
    "stage.not_now": "Cet acte n'est pas possible tant que le contrat est {status}.",
    "territory.unknown": "Le territoire « {territory} » n'est pas dans le référentiel (SIREN d'une métropole, ou D "
    "suivi du code du département, par exemple D33).",
    "territory.exists": "Le territoire {territory} est déjà enregistré.",
    "territory.listed_twice": "Un territoire figure deux fois dans la liste.",
    "territory.attempts_exhausted": "Ce territoire a déjà eu {limit} contrats : c'est le maximum.",
    "attempt.earlier_live": "Le contrat {contract} de ce territoire est en cours ({status}) : un nouveau contrat ne "
    "commence qu'une fois le précédent résilié ou clos.",
    "attempt.before_earlier_end": "Le {date} est avant la fin du contrat précédent {contract} ({end_date}) : un "
    "nouveau contrat commence le jour où le précédent a pris fin, ou après.",
    "attempt.not_after_latest": "Le dernier contrat de ce territoire est {contract} : un contrat repris vient après "
    "lui.",
    "attempt.no_earlier": "Ce territoire n'a pas encore de contrat dans Pacte : le contrat repris est {contract}.",
    "campaign.unknown": "Cette campagne n'existe pas.",
    "campaign.ceiling_not_listed": "Un plafond est donné pour un territoire qui n'est pas dans la campagne.",
    "proposal.date_outside": "Un contrat de ce territoire se propose entre le {earliest_date} (son instruction) et la "
    "fin du programme, le {end_date}.",
    "proposal.replaces_unknown": "Le contrat remplacé n'est pas un contrat antérieur de ce territoire.",
    "ceiling.not_positive": "Le plafond annuel doit être un montant positif.",
    # dates of facts
    "date.in_future": "Le {date} est dans le futur : un fait s'enregistre une fois qu'il a eu lieu.",
    "date.before_programme": "Le {date} est avant la date la plus ancienne possible pour ce territoire "
    "({earliest_date}, son instruction).",
    "date.after_programme": "Le programme s'est terminé le {end_date}.",
    "date.before_last_fact": "Le {date} est avant le dernier fait enregistré du contrat ({last_date}) : les faits "
    "s'enregistrent dans l'ordre où ils ont eu lieu.",
    "date.undoes_calendar": "Daté du {date}, ce fait déferait ce que le calendrier a enregistré le {calendar_date} ; "
    "enregistrez-le à la date d'aujourd'hui.",
    "year.outside_programme": "L'année {year} est hors du programme ({first}–{last}).",
    "year.not_next": "La prochaine année du programme est {expected}, pas {year}.",
    "year.opened_too_early": "L'année {year} ne peut pas s'ouvrir avant le 1er janvier {year}.",
    "year.not_opened": "L'année {year} n'est pas une année ouverte du contrat.",
    "year.frozen": "Le rapport d'exécution de {year} est déposé : les montants de cette année sont figés.",
    # fiches actions and money
    "action.unknown": "La fiche action {action} n'existe pas dans ce contrat.",
    "action.exists": "La fiche action {action} existe déjà.",
    "action.duplicate": "La fiche action {action} figure deux fois.",
    "action.too_many": "Un contrat compte au plus {limit} fiches actions.",
    "action.id_mismatch": "L'identifiant de la fiche ne correspond pas à la fiche modifiée.",
    "action.past_amounts_frozen": "Les montants d'une année terminée sont figés (fiche {action}).",
    "action.removal_after_spending": "La fiche {action} a été financée en {years}, années terminées : elle ne peut "
    "pas être retirée ; ne lui donnez plus de crédits pour les années à venir.",
    "action.added_from_current_year": "Une nouvelle fiche action est financée à partir de {year}.",
    "action.reinforcement_missing": "Une action renforcée doit dire comment (file active élargie, nouveaux publics, "
    "nouveaux territoires).",
    "action.reinforcement_unexpected": "Seule une action renforcée a un renforcement.",
    "amounts.empty": "Donnez les montants d'au moins une fiche action.",
    "money.co_financing": "Fiche {action}, {year} : le montant de l'État ({etat_cents}) doit être égal à celui de la "
    "collectivité ({collectivite_cents}) : chaque action est financée à parts égales.",
    "money.ceiling": "En {year}, les montants de l'État font {total_cents}, au-dessus du plafond annuel de "
    "{ceiling_cents}.",
    "axis.not_of_contract": "L'axe {axis} n'est pas un axe de ce contrat (l'emploi des départements relève de la "
    "convention avec France Travail).",
    "axis.missing_action": "Le contrat d'une métropole a au moins une fiche action sur chacun des 4 axes ; il manque : "
    "{axes}.",
    "axis.unfunded": "Une métropole finance chacun de ses 4 axes chaque année ; en {year}, aucun crédit de l'État ne "
    "va à : {axes}.",
    "indicator.target_missing": "L'indicateur {indicator} a besoin d'une cible pour chaque année financée ; il en "
    "manque pour {years}.",
    "indicator.unknown": "La fiche {action} n'a pas d'indicateur « {indicator} ».",
    "spending.above_programmed": "Fiche {action}, {year} : {spent_cents} de crédits de l'État dépensés, plus que les "
    "{programmed_cents} programmés.",
    # deliberation and signatures
    "deliberation.no_actions": "L'assemblée ne peut pas voter un contrat sans fiche action.",
    "deliberation.vote_in_future": "Le vote du {date} est après la date du fait ({fact_date}) : un vote "
    "s'enregistre une fois qu'il a eu lieu, à sa date ou après.",
    "deliberation.vote_before_change": "L'assemblée approuve le texte tel qu'il était : il a été modifié le "
    "{changed_date}, après le vote du {date}.",
    "signature.already_signed": "La partie {party} a déjà signé.",
    "signature.wrong_party": "Le rôle {role} signe pour sa propre partie, pas pour la partie {party}.",
    "signature.not_the_prefet": "L'État signe par le préfet des départements du contrat.",
    "signature.before_deliberation": "Une signature du {date} ne peut pas précéder la délibération (votée le "
    "{voted_date}).",
    "signature.not_signed": "La partie {party} n'a pas signé : il n'y a rien à rectifier.",
    "signature.same_date": "La signature est déjà datée du {date}.",
    "signature.opens_first_year": "La signature a ouvert la première année du contrat ({year}) : la changer "
    "changerait cette année.",
    # execution
    "review.date_outside_year": "Le comité de {year} se tient en {year}, et pas après la date du fait ({fact_date}).",
    "review.before_signature": "Un comité suit un contrat signé : le {date} est avant la signature ({signed_date}).",
    "review.too_many": "L'année {year} compte déjà {limit} comités de suivi : c'est le maximum.",
    "report.year_not_over": "Le rapport d'exécution de {year} se dépose une fois l'année terminée.",
    "report.year_never_ran": "L'année {year} n'a pas été exécutée dans ce contrat : pas de rapport pour elle.",
    "report.already_submitted": "Le rapport d'exécution de {year} est déjà déposé.",
    "report.none_to_rectify": "Il n'y a pas de rapport d'exécution de {year} à rectifier.",
    "report.settled": "Le rapport de l'année suivante est déposé et a soldé {year} : il ne peut plus être rectifié.",
    "report.unchanged": "Le rapport rectifié est identique au rapport enregistré.",
    "evaluation.too_early": "L'évaluation à mi-parcours se fait à partir du {opens_date}.",
    "evaluation.already_recorded": "L'évaluation à mi-parcours est déjà enregistrée.",
    "evaluation.every_action": "Chaque fiche action est évaluée, et seulement elles (manquantes : {missing} ; "
    "inconnues : {unknown}).",
    "evaluation.empty": "Une évaluation ne peut pas être vide.",
    "deadline.already_recorded": "Cette échéance manquée est déjà enregistrée.",
    "deadline.not_past": "Cette échéance n'est pas encore passée.",
    "deadline.not_pending": "Aucune obligation de ce type n'est en attente à cette échéance.",
    # avenants
    "avenant.changes_nothing": "Un avenant change quelque chose : des montants, le plafond ou les fiches actions.",
    "avenant.too_many": "Un contrat compte au plus {limit} avenants.",
    "avenant.id_used": "La référence {avenant} est déjà utilisée.",
    "avenant.unknown": "L'avenant {avenant} n'existe pas.",
    "avenant.concluded": "L'avenant {avenant} est déjà conclu.",
    "avenant.already_signed": "La partie {party} a déjà signé l'avenant {avenant}.",
    "avenant.year_over": "L'avenant {avenant} change les montants de {year}, année terminée ou rapportée : ils sont "
    "figés.",
    "avenant.no_adjust_review": "Aucun comité de {year} n'a décidé d'ajuster.",
    "renewal.wrong_year": "Le renouvellement porte sur l'année suivante ({expected}), pas sur {year}.",
    "renewal.before_review": "Pas de renouvellement pour {year} avant le comité de suivi de {reviewed}.",
    "renewal.already_proposed": "Un renouvellement pour {year} est déjà proposé.",
    "renewal.too_late": "Le renouvellement pour {year} n'a pas été signé avant l'ouverture de cette année.",
    "amendment.wrong_year": "Un avenant concerne l'année en cours ou une suivante ({first}–{last}).",
    # ending
    "closing.before_end": "La clôture commence après la fin du programme ({end_date}).",
    "closing.reports_missing": "Les rapports d'exécution de {years} manquent encore.",
    "closing.balance_mismatch": "Le reversement déclaré ({declared_cents}) ne correspond pas au solde calculé "
    "({balance_cents}).",
    # imports (reprise de l'existant)
    "import.not_an_object": "Une ligne est un objet JSON (un fait).",
    "import.calendar_fact": "Le fait {type} est enregistré par le calendrier lui-même : retirez-le du fichier.",
    "import.required": "Chaque ligne indique « {name} ».",
    "token.not_yours": "Le jeton {token_id} n'est pas l'un des vôtres ni de votre périmètre d'administration.",
    "token.unknown": "Aucun jeton ne porte l'identifiant {token_id}.",
    "token.already_revoked": "Le jeton {token_id} est déjà révoqué.",
    "renewal.same_again": "Le renouvellement pour {year} est déjà proposé avec ces montants.",
    "avenant.renewal_id_reserved": "Les références commençant par « {prefix} » sont réservées aux renouvellements du "
    "préfet : nommez l'avenant autrement.",
    "review.closing": "Le contrat est en clôture : seule la revue du comité de {year} peut encore être enregistrée.",
    "indicator.no_target_in_year": "La fiche {action} serait financée en {year}, mais son indicateur {indicator} n'a pas "
    "de cible pour {year} : chaque année financée demande une cible annuelle.",
    "action.reported_frozen": "La fiche {action} a été financée en {years}, année(s) dont le rapport est déposé : ce "
    "qui était financé alors est figé ; ne modifiez que les années à venir, ou ajoutez une fiche.",
    "signature.relied_on": "Signé le {date}, le contrat le serait après des faits qui le supposaient signé (le premier "
    "le {relied_date}) : une rectification respecte toutes les règles que l'original respectait.",
    "avenant.not_proposer": "L'avenant {avenant} a été proposé par l'autre partie ({party}) : seul celui qui l'a "
    "proposé le retire ou le remplace.",
    "avenant.renewal_replaced_by_renewal": "{avenant} est un renouvellement : il se remplace par un nouveau "
    "renouvellement pour {year}, ou se retire.",
    "avenant.no_effect": "L'avenant {avenant} ne change aucun montant, aucune fiche ni le plafond : il n'y a "
    "rien à signer.",
    "import.party": "Un fait repris est l'acte d'une des parties de {territory} (son préfet, la collectivité, le "
    "commissaire de sa région) ; celui-ci est attribué au rôle {role}.",
    "import.attester_role": "L'historique d'un contrat est attesté par la préfecture qui en tient le dossier, pas "
    "par le rôle {role}.",
    "import.attester_scope": "Ce préfet n'atteste pas les faits de {territory} (départements {departements}).",
    "import.invalid": "La valeur « {name} » de cette ligne n'est pas acceptée.",
    "import.out_of_order": "Le {date} est avant la date de la ligne précédente : les faits se listent dans l'ordre.",
    "import.empty": "Le fichier ne contient aucun fait.",
    "import.too_many_facts": "Un fichier contient au plus {limit} faits.",
    "import.contract_too_long": "Un contrat compte au plus {limit} faits dans un fichier.",
    "import.too_large": "Le fichier dépasse {limit} Mo : découpez-le en plusieurs fichiers.",
    "import.not_utf8": "Le fichier n'est pas du texte UTF-8 : enregistrez-le en UTF-8 puis recommencez.",
    # audit pages
    "audit.two_dates": "Donnez deux dates.",
    "export.unknown_format": "Format d'export inconnu (csv ou jsonl).",
    "search.cursor": "Cette page suivante ne correspond plus à ce tri : reprenez la liste depuis la première page.",
    # pydantic's error types: a value the command's schema refuses
    "missing": "Ce champ est obligatoire.",
    "string_too_long": "Ce texte est trop long : {max_length} caractères au plus.",
    "string_too_short": "Ce texte est trop court : {min_length} caractère(s) au moins.",
    "string_pattern_mismatch": "Cette valeur n'a pas la forme attendue (lettres, chiffres, tirets).",
    "string_type": "Ce champ attend un texte.",
    "too_long": "Trop d'éléments : {max_length} au plus.",
    "too_short": "Pas assez d'éléments : {min_length} au moins.",
    "greater_than_equal": "La valeur doit être au moins {ge}.",
    "greater_than": "La valeur doit être supérieure à {gt}.",
    "less_than_equal": "La valeur doit être au plus {le}.",
    "less_than": "La valeur doit être inférieure à {lt}.",
    "int_parsing": "Ce champ attend un nombre entier.",
    "int_type": "Ce champ attend un nombre entier.",
    "int_from_float": "Ce champ attend un nombre entier.",
    "enum": "Choisissez une des valeurs proposées.",
    "literal_error": "Choisissez une des valeurs proposées.",
    "extra_forbidden": "Ce champ n'est pas attendu.",
    "dict_type": "Cette valeur n'est pas acceptée.",
    "model_type": "Cette valeur n'est pas acceptée.",
    "date_parsing": "Cette date n'est pas lisible : écrivez-la JJ/MM/AAAA.",
    "date_from_datetime_parsing": "Cette date n'est pas lisible : écrivez-la JJ/MM/AAAA.",
    "datetime_parsing": "Cette date n'est pas lisible : écrivez-la JJ/MM/AAAA.",
    "value_error": "Cette valeur n'est pas acceptée.",
    # following the money (issue 30): the État's envelope, commitments, payments
    "ej.format": "« {value} » n'est pas un numéro d'engagement juridique Chorus : il compte 10 chiffres.",
    "extract.unreadable": "Ce fichier n'est pas un extrait comptable lisible ({reason}).",
    "trail.amount_not_positive": "Le montant doit être supérieur à 0 €.",
    "trail.year_outside": "{year} n'est pas une année du programme.",
    "trail.too_many": "Cette année compte déjà {limit} faits de ce genre, le maximum.",
    "envelope.above_programme": "L'enveloppe notifiée de {year} dépasserait le montant de l'État programmé "
    "({programmed_cents}).",
    "envelope.freeze_above_free": "Seuls {free_cents} de l'enveloppe de {year} ne sont ni engagés ni gelés.",
    "envelope.release_above_frozen": "Seuls {frozen_cents} de l'enveloppe de {year} sont gelés.",
    "envelope.cancellation_above_uncommitted": "Seuls {uncommitted_cents} de l'enveloppe de {year} ne sont pas "
    "engagés : un engagement juridique s'annule par son propre acte.",
    "commitment.ej_known": "L'engagement juridique {ej} est déjà enregistré (année {year}).",
    "commitment.above_envelope": "Les engagements de {year} dépasseraient l'enveloppe disponible ({available_cents}, "
    "dont {committed_cents} déjà engagés).",
    "payment.unknown_ej": "Aucun engagement juridique {ej} n'est enregistré pour ce contrat.",
    "payment.document_known": "Le paiement {document} est déjà enregistré.",
    "payment.above_commitment": "Les paiements sur l'engagement {ej} dépasseraient son montant ({committed_cents}, "
    "dont {paid_cents} déjà payés).",
    "payment.unknown_instalment": "« {instalment} » n'est pas une tranche de la convention ({known}).",
    "payment.before_report": "Le {instalment} de {year} est versé une fois son rapport d'exécution remis.",
    "payment.programme_above_envelope": "Le programme de {year} ({payable_cents} à verser) dépasse l'enveloppe "
    "disponible ({available_cents}) : un avenant financier ramène d'abord le programme, et donc la part de la "
    "collectivité, à l'enveloppe.",
    "payment.above_used": "Les paiements de {year} dépasseraient les dépenses de l'État que son rapport d'exécution "
    "constate ({used_cents}).",
    "recovery.titre_known": "Le titre de perception {titre} est déjà enregistré (année {year}).",
    "recovery.before_report": "Rien de {year} n'est réclamé avant son rapport d'exécution.",
    "recovery.above_owed": "Les titres de perception de {year} dépasseraient ce qui est dû sur les paiements "
    "({owed_cents}, dont {claimed_cents} déjà réclamés).",
    "recovery.unknown_titre": "Aucun titre de perception {titre} n'est enregistré pour ce contrat.",
    "recovery.above_titre": "Il reste {left_cents} à recouvrer sur le titre {titre}.",
    "payment.above_instalment": "Les paiements de {year} dépasseraient la part prévue pour le {instalment} "
    "({share_cents}).",
}


# The gaps of a contract's money trail (domain/money_trail.py), as the contract's page states them.
TRAIL_GAPS = {
    "envelope_not_notified": "Aucune enveloppe de l'État n'est notifiée pour cette année.",
    "envelope_below_programme": "L'enveloppe disponible est inférieure au programme : un avenant financier doit "
    "ramener le programme (et la part de la collectivité) à l'enveloppe avant le solde.",
    "committed_above_available": "Les engagements dépassent l'enveloppe disponible.",
    "paid_above_committed": "Les paiements dépassent les engagements.",
    "paid_above_payable": "Les paiements dépassent le montant de l'État à verser (programme moins réfaction).",
    "payments_not_recorded": "Paiements non saisis : le montant versé est déduit du programme moins la réfaction.",
    "paid_below_used": "Le rapport d'exécution constate plus de dépenses de l'État que les paiements : le reste est dû.",
    "paid_above_used": "Les paiements dépassent les dépenses de l'État constatées : l'excédent est à récupérer.",
    "owed_back_not_claimed": "Des paiements dépassent les dépenses constatées sans réfaction ni titre de perception.",
    "recovery_outstanding": "Des titres de perception ne sont pas encore recouvrés en totalité.",
}


def _shown(key: str, value: Any) -> str:
    """A parameter as agents read it: amounts (``*_cents``) in euros, dates (``date``, ``*_date``) in words, roles,
    parties, statuses and axes by their French names."""
    from pacte.web.formats import AXES, PARTIES, ROLES, STATUSES, day, euros, in_sentence

    if key.endswith("_cents") and isinstance(value, int):
        return euros(value)
    if key == "date" or key.endswith("_date"):
        try:
            return day(str(value))
        except ValueError:
            return str(value)
    if key == "act":
        from pacte.web.forms import FORMS

        form = FORMS.get(str(value))
        return form.title.lower() if form else str(value)
    if key == "axes":
        return ", ".join(AXES.get(a, a) for a in str(value).split(", "))
    table = {"role": ROLES, "party": PARTIES, "status": STATUSES, "axis": AXES}.get(key)
    if table is None:
        return str(value)
    word = table.get(str(value), str(value))
    # Inside a sentence: "préfet", "administrateur de Pacte", "proposé" — but "État" keeps its capital, axes their names.
    return word if key == "axis" else in_sentence(word)


def placeholders(sentence: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(sentence) if name}


def in_french(rule: str, params: Mapping[str, Any] | None = None, code: str | None = None) -> str:
    """The rule's French sentence, its parameters filled in; a rule unknown here (a worker newer than this page)
    falls back to its code's sentence, and a sentence whose parameters did not come to its code's too."""
    sentence = RULES.get(rule) or CODES.get(rule)
    given = dict(params or {})
    if sentence is None or not placeholders(sentence) <= set(given):
        return CODES.get(code or rule, CODES["domain_error"])
    return sentence.format(**{k: _shown(k, v) for k, v in given.items()})
