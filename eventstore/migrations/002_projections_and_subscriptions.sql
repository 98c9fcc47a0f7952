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
    tx_id       bigint NOT NULL,   -- the follow cursor: (tx_id, global_position) of the last event handled
    position    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Followers LISTEN on channel pacte_events; the store notifies it after its appends commit (outside the
-- appending transaction: a NOTIFY inside it would serialise every commit of the cluster on the notify queue lock).

-- One contract's read-model rows, from a summary and its amounts per year and axis (computed by the projector from
-- the events). Used by appends and by rebuilds alike, so both write exactly the same rows.
CREATE OR REPLACE FUNCTION pacte_project(p_summary jsonb, p_axis jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contract_summary SELECT * FROM jsonb_populate_record(NULL::contract_summary, p_summary)
    ON CONFLICT (contract_id) DO UPDATE SET
        territory_id = EXCLUDED.territory_id, territory_name = EXCLUDED.territory_name, kind = EXCLUDED.kind,
        region = EXCLUDED.region, status = EXCLUDED.status, current_year = EXCLUDED.current_year,
        annual_ceiling = EXCLUDED.annual_ceiling, version = EXCLUDED.version,
        last_event_at = EXCLUDED.last_event_at, state = EXCLUDED.state;
    DELETE FROM contract_axis_year WHERE contract_id = p_summary->>'contract_id';
    INSERT INTO contract_axis_year SELECT * FROM jsonb_populate_recordset(NULL::contract_axis_year, p_axis);
END;
$$;

-- An append in one statement (one round trip, its own transaction): check the expected version under the stream's
-- row lock, chain the hashes, insert the events, move the stream head, update the read models.
-- Each event's hash is sha256(previous hash || sha256 of its canonical content (computed by the caller) || its
-- recorded_at as UTC text): the record time comes from this database and is still covered by the chain.
CREATE OR REPLACE FUNCTION pacte_append(
    p_stream text, p_category text, p_expected integer,
    p_ids uuid[], p_types text[], p_schemas integer[], p_payloads jsonb[], p_metadata jsonb[],
    p_occurred timestamptz[], p_digests bytea[], p_summary jsonb, p_axis jsonb
) RETURNS TABLE (outcome text, stream_version integer, first_position bigint) LANGUAGE plpgsql AS $$
DECLARE
    v_version integer;
    v_hash bytea;
    v_now timestamptz := clock_timestamp();
    v_stamp bytea;
    v_prev bytea[] := '{}';
    v_hashes bytea[] := '{}';
    v_first bigint;
    n integer := cardinality(p_ids);
BEGIN
    SELECT s.version, s.head_hash INTO v_version, v_hash FROM streams s WHERE s.stream_id = p_stream FOR UPDATE;
    IF NOT FOUND THEN
        v_version := 0;
        v_hash := decode(repeat('00', 32), 'hex');
    END IF;
    IF v_version <> p_expected THEN
        RETURN QUERY SELECT 'moved'::text, v_version, NULL::bigint;
        RETURN;
    END IF;
    v_stamp := convert_to(to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8');
    FOR i IN 1..n LOOP
        v_prev := array_append(v_prev, v_hash);
        v_hash := sha256(v_hash || p_digests[i] || v_stamp);
        v_hashes := array_append(v_hashes, v_hash);
    END LOOP;
    WITH inserted AS (
        INSERT INTO events (stream_id, version, event_id, event_type, schema_version, payload, metadata,
                            occurred_at, recorded_at, prev_hash, hash)
        SELECT p_stream, p_expected + t.ord::integer, t.id, t.typ, t.sch, t.pay, t.meta, t.occ, v_now, t.prev, t.h
        FROM unnest(p_ids, p_types, p_schemas, p_payloads, p_metadata, p_occurred, v_prev, v_hashes)
             WITH ORDINALITY AS t(id, typ, sch, pay, meta, occ, prev, h, ord)
        RETURNING global_position
    )
    SELECT min(global_position) INTO v_first FROM inserted;
    INSERT INTO streams (stream_id, category, version, head_hash, updated_at)
    VALUES (p_stream, p_category, p_expected + n, v_hash, v_now)
    ON CONFLICT (stream_id) DO UPDATE
        SET version = EXCLUDED.version, head_hash = EXCLUDED.head_hash, updated_at = EXCLUDED.updated_at;
    IF p_summary IS NOT NULL THEN
        PERFORM pacte_project(p_summary, p_axis);
    END IF;
    RETURN QUERY SELECT 'appended'::text, p_expected + n, v_first;
END;
$$;
