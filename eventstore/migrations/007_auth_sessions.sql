-- Web sessions, server-side (issue 25, item 2): the cookie carries a random session id; its SHA-256 is kept here,
-- checked on every request; sign-out ends it here, so a cookie replayed afterwards, or kept by someone else, opens
-- nothing, and every API process agrees. Sessions are not the event record: they live in a schema of their own,
-- which the runtime role may write (the events stay append-only through pacte_append).
CREATE SCHEMA IF NOT EXISTS pacte_auth;
REVOKE ALL ON SCHEMA pacte_auth FROM PUBLIC;

CREATE TABLE IF NOT EXISTS pacte_auth.sessions (
    session_hash  bytea PRIMARY KEY,          -- sha256 of the id in the cookie: a copy of this table opens nothing
    sub           text NOT NULL,              -- the person (their provider's sub)
    grant_id      text,                       -- the access list's grant it was opened under
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    ended_why     text
);
CREATE INDEX IF NOT EXISTS sessions_sub ON pacte_auth.sessions (sub);
CREATE INDEX IF NOT EXISTS sessions_grant ON pacte_auth.sessions (grant_id);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pacte_runtime') THEN
        GRANT USAGE ON SCHEMA pacte_auth TO pacte_runtime;
        GRANT SELECT, INSERT, UPDATE, DELETE ON pacte_auth.sessions TO pacte_runtime;
    END IF;
END
$$;
