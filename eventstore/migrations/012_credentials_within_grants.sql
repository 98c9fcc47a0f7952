-- What the runtime role may do with credentials is what the service does with them, and no more (issue 25, found by
-- an attack on 010): it could insert a token of any role, scope and lifetime with no grant behind it, insert itself
-- a grant (a revoked person back in, wider), backdate an entry of the access log, and reopen a session ended by
-- sign-out. The owner keeps local administration (`pacte tokens`, `pacte access`, the import of the files of earlier
-- versions at start, which now runs as the owner).

-- Grants are given by local administration only.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pacte_runtime') THEN
        REVOKE INSERT ON pacte_auth.grants FROM pacte_runtime;
    END IF;
END
$$;

-- A token the runtime role makes is a person's, under a live grant, with that grant's role and identity and no
-- wider scope, made now, for at most two years (the longest tokens.py gives), and not born revoked.
CREATE OR REPLACE FUNCTION pacte_auth.token_within_grant() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g pacte_auth.grants%ROWTYPE;
BEGIN
    IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
        RETURN NEW;  -- local administration
    END IF;
    SELECT * INTO g FROM pacte_auth.grants WHERE grant_id = NEW.grant_id;
    IF NOT FOUND OR g.revoked_at IS NOT NULL OR g.expires_at <= now()
       OR NEW.actor ->> 'role' IS DISTINCT FROM g.role
       OR NEW.actor ->> 'identity' IS DISTINCT FROM g.identity
       OR NOT (ARRAY(SELECT jsonb_array_elements_text(COALESCE(NEW.actor -> 'scope', '[]'::jsonb))) <@ g.scope)
       OR NEW.expires_at > now() + interval '731 days'
       OR NEW.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'pacte_auth.tokens: a token is made under a live grant, within it (grant %)', NEW.grant_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.created_at := now();
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS tokens_within_grant ON pacte_auth.tokens;
CREATE TRIGGER tokens_within_grant BEFORE INSERT ON pacte_auth.tokens
    FOR EACH ROW EXECUTE FUNCTION pacte_auth.token_within_grant();

-- The log says when by the database's clock: nobody writes an entry in the past.
CREATE OR REPLACE FUNCTION pacte_auth.log_at_now() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.at := now();
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS access_log_at_now ON pacte_auth.access_log;
CREATE TRIGGER access_log_at_now BEFORE INSERT ON pacte_auth.access_log
    FOR EACH ROW EXECUTE FUNCTION pacte_auth.log_at_now();

-- A session ends once, for good: nothing reopens it, lengthens it or changes whose it is (its end may come sooner).
CREATE OR REPLACE FUNCTION pacte_auth.session_only_ends() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (OLD.ended_at IS NOT NULL
        AND (NEW.ended_at IS DISTINCT FROM OLD.ended_at OR NEW.ended_why IS DISTINCT FROM OLD.ended_why))
       OR NEW.expires_at > OLD.expires_at
       OR (pg_catalog.to_jsonb(NEW) - 'ended_at' - 'ended_why' - 'expires_at')
          IS DISTINCT FROM (pg_catalog.to_jsonb(OLD) - 'ended_at' - 'ended_why' - 'expires_at') THEN
        RAISE EXCEPTION 'pacte_auth.sessions: a session only ends, once, or expires sooner'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS sessions_only_end ON pacte_auth.sessions;
CREATE TRIGGER sessions_only_end BEFORE UPDATE ON pacte_auth.sessions
    FOR EACH ROW EXECUTE FUNCTION pacte_auth.session_only_ends();
