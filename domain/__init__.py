"""The pure model of a contrat local des solidarités: no I/O, no clock, no Temporal, no database."""
