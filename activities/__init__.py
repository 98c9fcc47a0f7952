"""Temporal activities: the only place where workflows touch the outside world."""
