-- Read models derived from the events (rebuildable), subscription checkpoints, and a wake-up for followers.

CREATE TABLE IF NOT EXISTS contract_summary (
    contract_id     text PRIMARY KEY,
    territory_id    text NOT NULL,
    territory_name  text NOT NULL,
    kind            text NOT NULL,
    region          text NOT NULL,
    status          text NOT NULL,
    current_year    integer,
    annual_ceiling  bigint NOT NULL,
    version         integer NOT NULL,
    last_event_at   timestamptz NOT NULL,
    state           jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS contract_summary_status ON contract_summary (status);
CREATE INDEX IF NOT EXISTS contract_summary_region ON contract_summary (region);

-- Amounts per contract, year and axis (État, collectivité, other partners), in cents.
CREATE TABLE IF NOT EXISTS contract_axis_year (
    contract_id   text NOT NULL,
    year          integer NOT NULL,
    axis          text NOT NULL,
    actions       integer NOT NULL,
    etat          bigint NOT NULL,
    collectivite  bigint NOT NULL,
    partenaires   bigint NOT NULL,
    PRIMARY KEY (contract_id, year, axis)
);

-- The national view per year: derived from the two tables above, so it is always consistent with them.
CREATE OR REPLACE VIEW national_year AS
SELECT y.year,
       count(DISTINCT y.contract_id)                                     AS contracts,
       count(DISTINCT y.contract_id) FILTER (WHERE s.kind = 'metropole')  AS metropoles,
       count(DISTINCT y.contract_id) FILTER (WHERE s.kind = 'departement') AS departements,
       sum(y.etat)::bigint                                                AS etat,
       sum(y.collectivite)::bigint                                        AS collectivite,
       sum(y.partenaires)::bigint                                         AS partenaires
FROM contract_axis_year y JOIN contract_summary s USING (contract_id)
WHERE s.status NOT IN ('PROPOSED', 'NEGOTIATING', 'DELIBERATED', 'TERMINATED')
GROUP BY y.year;

CREATE TABLE IF NOT EXISTS subscription_checkpoints (
    name        text PRIMARY KEY,
    position    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Followers LISTEN on this channel; the notification is delivered when the appending transaction commits.
CREATE OR REPLACE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pacte_events', '');
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS events_notify ON events;
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
