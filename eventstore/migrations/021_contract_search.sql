-- Finding a contract among thousands (issue 26, item 4): what the contract list filters on beside contract_summary's
-- own columns, one row per contract, derived from the summary's state by the service (pacte/service/search.py) and
-- refreshed when the summary's version (or the deadline rules in code) moved. It decides which contracts a list shows,
-- never what is shown of them (that is the summary, joined), and is rebuilt by deleting it.
CREATE TABLE IF NOT EXISTS contract_search (
    contract_id   text PRIMARY KEY,
    version       integer NOT NULL,  -- contract_summary.version it was derived from
    policy        text NOT NULL,     -- fingerprint of the deadline rules it was judged by
    departements  text[] NOT NULL,
    name_key      text NOT NULL,     -- the territory's name lower-cased without accents, for "contains"
    late_after    date,              -- late on any day after this one (deadline_standings); NULL: nothing owed
    -- Deadlines missed on a day D (deadline_standings): always_missed + those of pending_dues before D.
    always_missed integer NOT NULL,  -- recorded missed, not met since: missed whatever the day
    pending_dues  date[] NOT NULL    -- the due dates of the obligations not yet met
);
CREATE INDEX IF NOT EXISTS contract_search_departements ON contract_search USING gin (departements);
CREATE INDEX IF NOT EXISTS contract_search_late_after ON contract_search (late_after);

-- The list's keyset orders: each sort key, then contract_id (unique) to break ties.
CREATE INDEX IF NOT EXISTS contract_summary_by_name ON contract_summary (territory_name, contract_id);
CREATE INDEX IF NOT EXISTS contract_summary_by_status ON contract_summary (status, contract_id);
CREATE INDEX IF NOT EXISTS contract_summary_by_region ON contract_summary (region, contract_id);
CREATE INDEX IF NOT EXISTS contract_summary_by_year ON contract_summary ((COALESCE(current_year, 0)), contract_id);
CREATE INDEX IF NOT EXISTS contract_summary_by_ceiling ON contract_summary (annual_ceiling, contract_id);
CREATE INDEX IF NOT EXISTS contract_summary_by_activity ON contract_summary (last_event_at, contract_id);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pacte_runtime') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON contract_search TO pacte_runtime;
    END IF;
END
$$;
