"""Role labels as DSFR headings and labels expect them: capitalised on their own ("Administrateur de Pacte"), and
inside a sentence only their first letter lowered ("administrateur de Pacte", never "administrateur de pacte")."""

from __future__ import annotations

import re
from pathlib import Path

from domain.actors import Role
from pacte.web.formats import FILTERS, ROLES, in_sentence
from pacte.web.messages import in_french

TEMPLATES = Path(__file__).resolve().parents[2] / "pacte" / "web" / "templates"


def test_every_role_has_a_capitalised_label() -> None:
    assert set(ROLES) == {r.value for r in Role}
    for role, label in ROLES.items():
        assert label[0].isupper(), (role, label)
        assert FILTERS["role"](role) == label
    assert ROLES["admin"] == "Administrateur de Pacte"


def test_inside_a_sentence_a_role_keeps_its_proper_nouns() -> None:
    assert in_sentence("Administrateur de Pacte") == "administrateur de Pacte"
    assert in_sentence("Commissaire à la lutte contre la pauvreté") == "commissaire à la lutte contre la pauvreté"
    assert in_sentence("État") == "État"  # a word whose capital is its own keeps it
    said = in_french("role.not_allowed", {"role": "admin", "act": "AddAction"})
    assert "Le rôle administrateur de Pacte " in said, said


def test_no_template_lowers_a_role_whole() -> None:
    for template in TEMPLATES.glob("*.html"):
        assert not re.search(r"\|\s*role\s*\|\s*lower", template.read_text()), template.name
