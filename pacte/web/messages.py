"""Refusals in the agents' words: the domain's rule codes in French, with the field's label. The domain's own
sentence (in English, like the API and the logs) stays available as the technical detail."""

from __future__ import annotations

RULES = {
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
    "timeout": "Le contrat n'a pas répondu à temps ; renvoyez le formulaire : un envoi répété n'enregistre rien "
    "deux fois.",
    "store_unavailable": "Le registre des événements est momentanément indisponible ; réessayez.",
    "outcome_unknown": "Le registre des événements n'a pas confirmé l'enregistrement ; renvoyez le formulaire dans "
    "quelques instants pour savoir s'il a été enregistré (un envoi répété n'enregistre rien deux fois).",
    "store_conflict": "Le registre contient un fait que ce contrat n'a pas écrit : contactez l'équipe d'exploitation.",
    "store_refused": "Le registre des événements a refusé cette valeur.",
    "balance_mismatch": "Le reversement déclaré ne correspond pas au solde calculé.",
    "contract_full": "Le contrat a atteint sa taille maximale.",
}


def in_french(code: str, pydantic_type: str | None = None) -> str:
    if pydantic_type == "missing":
        return RULES["missing"]
    return RULES.get(code, "Cette demande est refusée.")
