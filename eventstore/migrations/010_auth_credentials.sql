-- The access list and the API tokens, in PostgreSQL (issue 25, item 1): every API process reads the same grants and
-- tokens at every request (no file parsed again, no process trusting a copy), a person's token made from a session
-- names its grant and dies with it, and an administrator revokes any token at once. Like the sessions (007), these
-- are not the event record: they live in pacte_auth, which the runtime role may write; the access list's log of
-- changes is append-only, for every role but the owner's own migrations.

CREATE TABLE IF NOT EXISTS pacte_auth.grants (
    grant_id      text PRIMARY KEY,
    match         text NOT NULL CHECK (match IN ('sub', 'email', 'siret', 'siren')),
    value         text NOT NULL,
    role          text NOT NULL,
    identity      text NOT NULL,
    scope         text[] NOT NULL,
    organisation  text NOT NULL DEFAULT '',
    granted_by    text NOT NULL,
    granted_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoked_by    text
);
CREATE INDEX IF NOT EXISTS grants_match ON pacte_auth.grants (match, value);

CREATE TABLE IF NOT EXISTS pacte_auth.tokens (
    token_id    text PRIMARY KEY,
    sha256      text NOT NULL UNIQUE,        -- of the token: a copy of this table opens nothing
    actor       jsonb NOT NULL,              -- role, identity, scope, and the person when it is a person's
    sub         text,                        -- the person's sub (their tokens are counted and listed by it)
    grant_id    text,                        -- the grant a person's token was made under: it dies with it
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    revoked_by  text
);
CREATE INDEX IF NOT EXISTS tokens_sub ON pacte_auth.tokens (sub);

-- Who granted, revoked, made or revoked what, and when: appended, never changed.
CREATE TABLE IF NOT EXISTS pacte_auth.access_log (
    position  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    by        text NOT NULL,
    did       text NOT NULL,
    detail    jsonb NOT NULL
);

CREATE OR REPLACE FUNCTION pacte_auth.log_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'pacte_auth.access_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER IF EXISTS access_log_append_only ON pacte_auth.access_log;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON pacte_auth.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION pacte_auth.log_append_only();

-- A revocation is final, and what a grant or a token gives never changes after it was made: the only update
-- allowed is the revocation itself (a runtime role that may revoke cannot un-revoke, widen a scope, or extend a
-- lifetime).
CREATE OR REPLACE FUNCTION pacte_auth.only_revocation() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
       OR (pg_catalog.to_jsonb(NEW) - 'revoked_at' - 'revoked_by')
          IS DISTINCT FROM (pg_catalog.to_jsonb(OLD) - 'revoked_at' - 'revoked_by') THEN
        RAISE EXCEPTION '%: only a revocation may change a row, once', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS grants_only_revocation ON pacte_auth.grants;
CREATE TRIGGER grants_only_revocation BEFORE UPDATE ON pacte_auth.grants
    FOR EACH ROW EXECUTE FUNCTION pacte_auth.only_revocation();
DROP TRIGGER IF EXISTS tokens_only_revocation ON pacte_auth.tokens;
CREATE TRIGGER tokens_only_revocation BEFORE UPDATE ON pacte_auth.tokens
    FOR EACH ROW EXECUTE FUNCTION pacte_auth.only_revocation();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pacte_runtime') THEN
        GRANT SELECT, INSERT, UPDATE ON pacte_auth.grants, pacte_auth.tokens TO pacte_runtime;
        GRANT SELECT, INSERT ON pacte_auth.access_log TO pacte_runtime;
    END IF;
END
$$;
