-- Runs once, when the event store's PostgreSQL is created: the runtime role the API and the worker log in as
-- (migration 004 gives it its rights: read, append through pacte_append, the outbox; never rewrite history).
-- Change its password with the others before using this outside a laptop.
CREATE ROLE pacte_runtime LOGIN PASSWORD 'pacte_runtime';
