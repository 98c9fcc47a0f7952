-- The runtime role: what the API and the worker need, and no more. It reads everything, appends only through
-- pacte_append (SECURITY DEFINER: the function, owned by the owner role, writes the events, the heads and the read
-- models), and writes only the reminders outbox and the subscriptions' checkpoints. It owns nothing, so it cannot
-- update, delete or truncate an event, nor disable or drop the append-only trigger.
DO $$
BEGIN
    BEGIN
        CREATE ROLE pacte_runtime LOGIN;
    EXCEPTION
        -- Already there (another database of the cluster, maybe migrating at the same moment), or an owner role
        -- without CREATEROLE: then the administrators create it (README, "Security").
        WHEN duplicate_object OR unique_violation OR insufficient_privilege THEN NULL;
    END;
END
$$;

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'public' AND p.proname IN ('pacte_append', 'pacte_project') LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = public, pg_temp', f);
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pacte_runtime') THEN
        RAISE NOTICE 'role pacte_runtime is missing: create it (LOGIN), then run pacte migrate again';
        RETURN;
    END IF;
    GRANT USAGE ON SCHEMA public TO pacte_runtime;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO pacte_runtime;
    GRANT INSERT, UPDATE ON reminders, subscription_checkpoints TO pacte_runtime;
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO pacte_runtime;
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'public' AND p.proname IN ('pacte_append', 'pacte_project') LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO pacte_runtime', f);
    END LOOP;
END
$$;
