-- What an agent typed into a form when their session ended under them (issue 22, item 8): kept until they sign in
-- again, for that person and that form only, single-use, for an hour at most. Nothing here is a fact of a contract
-- (nothing is recorded until they send the form again): it lives beside the sessions, not in the event record.
CREATE TABLE IF NOT EXISTS pacte_auth.form_drafts (
    draft_hash  bytea PRIMARY KEY,           -- sha256 of the id in the sign-in link: a copy of this table opens nothing
    sub         text NOT NULL,               -- the person who typed it (the ended session's)
    path        text NOT NULL,               -- the form it was typed in
    fields      jsonb NOT NULL,              -- the values typed, by input name
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS form_drafts_expiry ON pacte_auth.form_drafts (expires_at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pacte_runtime') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON pacte_auth.form_drafts TO pacte_runtime;
    END IF;
END
$$;
