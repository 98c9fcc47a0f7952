"""The bounds of what a contract can hold, declared once: every value the domain accepts must be storable by
PostgreSQL (no NUL, no lone surrogate, integers well inside bigint once summed) and a contract's whole state must stay
well inside Temporal's payload limit (2 MB), since it is carried across continue-as-new and returned by queries.
They are published in the OpenAPI schema through the models that use them."""

from __future__ import annotations

# One amount: 10 milliards d'euros. The programme's whole budget line is 190 M€ a year; summed over 4 years, 40
# actions and 3 parties, amounts stay below 5·10^15 cents, far inside bigint (9.2·10^18).
MAX_CENTS = 10**12
MAX_COUNT = 10**9  # an indicator's baseline, target or measured value
MAX_ACTIONS = 40  # fiches actions in one contract
MAX_INDICATORS = 8  # per fiche action
MAX_AVENANTS = 24  # per contract (four renewals and twenty amendments)
MAX_AVENANT_ACTIONS = 3  # fiches actions added or changed by one avenant
# The storable bound on a year's committee reviews (monthly committees); the most a year may hold is a Policy value
# at or under it (Policy.max_reviews_per_year): DOMAIN.md §4 asks "at least once a year", not at most four.
MAX_REVIEWS_PER_YEAR = 12
# The money trail of one programme year (issue 30): the envelope's movements (notification, freezes, releases,
# cancellations), its legal commitments (Chorus EJ) and its payments. Monthly movements would stay well inside.
MAX_ENVELOPE_MOVEMENTS = 24
MAX_COMMITMENTS_PER_YEAR = 12
MAX_PAYMENTS_PER_YEAR = 24
MAX_TITRES_PER_YEAR = 6  # titres de perception of one year (a reversement, its corrections)
MAX_FACTS = 1500  # events in one contract's stream: the request log (in the state) stays bounded
# Text that PostgreSQL stores: no NUL (a constrained string also refuses lone surrogates, which UTF-8 cannot encode).
STORABLE_TEXT = r"^[^\x00]*$"
