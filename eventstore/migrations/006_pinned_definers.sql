-- The functions that run as the owner resolve nothing through a path anyone else may write (issue 25, item 5).
--
-- Migration 004 pinned search_path = public, pg_temp: not enough. Wherever the runtime role may create in public
-- (PostgreSQL 14's default, clusters upgraded from it), it could plant public.cardinality(uuid[]): function
-- resolution prefers an exact argument type over the path's order, so pacte_append, running as the owner, called the
-- planted function. And 005's CREATE OR REPLACE of pacte_project dropped the SECURITY DEFINER and search_path 004
-- had set (CREATE OR REPLACE resets every attribute it is not given).
--
-- Now: every name in these bodies is schema-qualified (pg_catalog.… or public.…), the path is pg_catalog then pg_temp
-- (last, where it cannot shadow a table or a type), and the attributes are in each CREATE statement itself, so a
-- later CREATE OR REPLACE that forgets them is caught by tests/integration/test_least_privilege.py, which reads
-- pg_proc.

-- CREATE in our schema for its owner only. A no-op (with a warning) when the migrating role does not own the
-- schema (PostgreSQL 14, public owned by the superuser): the qualified bodies above protect the definers anyway.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

CREATE OR REPLACE FUNCTION public.pacte_project(p_summary jsonb, p_axis jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO public.contract_summary
    SELECT * FROM pg_catalog.jsonb_populate_record(NULL::public.contract_summary, p_summary)
    ON CONFLICT (contract_id) DO UPDATE SET
        territory_id = EXCLUDED.territory_id, territory_name = EXCLUDED.territory_name, kind = EXCLUDED.kind,
        region = EXCLUDED.region, status = EXCLUDED.status, current_year = EXCLUDED.current_year,
        annual_ceiling = EXCLUDED.annual_ceiling, version = EXCLUDED.version,
        last_event_at = EXCLUDED.last_event_at, state = EXCLUDED.state;
    IF p_axis IS NOT NULL THEN
        DELETE FROM public.contract_axis_year WHERE contract_id = p_summary OPERATOR(pg_catalog.->>) 'contract_id';
        INSERT INTO public.contract_axis_year
        SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::public.contract_axis_year, p_axis);
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION public.pacte_append(
    p_stream text, p_category text, p_expected integer,
    p_ids uuid[], p_types text[], p_schemas integer[], p_payloads jsonb[], p_metadata jsonb[],
    p_occurred timestamptz[], p_digests bytea[], p_summary jsonb, p_axis jsonb
) RETURNS TABLE (outcome text, stream_version integer, first_position bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_version integer;
    v_hash bytea;
    v_now timestamptz := pg_catalog.clock_timestamp();
    v_stamp bytea;
    v_prev bytea[] := '{}';
    v_hashes bytea[] := '{}';
    v_first bigint;
    n integer := pg_catalog.cardinality(p_ids);
BEGIN
    SELECT s.version, s.head_hash INTO v_version, v_hash FROM public.streams s WHERE s.stream_id = p_stream FOR UPDATE;
    IF NOT FOUND THEN
        v_version := 0;
        v_hash := pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex');
    END IF;
    IF v_version <> p_expected THEN
        RETURN QUERY SELECT 'moved'::text, v_version, NULL::bigint;
        RETURN;
    END IF;
    v_stamp := pg_catalog.convert_to(
        pg_catalog.to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8');
    FOR i IN 1..n LOOP
        v_prev := pg_catalog.array_append(v_prev, v_hash);
        v_hash := pg_catalog.sha256(v_hash || p_digests[i] || v_stamp);
        v_hashes := pg_catalog.array_append(v_hashes, v_hash);
    END LOOP;
    WITH inserted AS (
        INSERT INTO public.events (stream_id, version, event_id, event_type, schema_version, payload, metadata,
                                   occurred_at, recorded_at, prev_hash, hash)
        SELECT p_stream, p_expected + t.ord::integer, t.id, t.typ, t.sch, t.pay, t.meta, t.occ, v_now, t.prev, t.h
        -- What unnest(a, b, …) in FROM stands for, spelled out so that each unnest is qualified.
        FROM ROWS FROM (pg_catalog.unnest(p_ids), pg_catalog.unnest(p_types), pg_catalog.unnest(p_schemas),
                        pg_catalog.unnest(p_payloads), pg_catalog.unnest(p_metadata), pg_catalog.unnest(p_occurred),
                        pg_catalog.unnest(v_prev), pg_catalog.unnest(v_hashes))
             WITH ORDINALITY AS t(id, typ, sch, pay, meta, occ, prev, h, ord)
        RETURNING global_position
    )
    SELECT pg_catalog.min(global_position) INTO v_first FROM inserted;
    INSERT INTO public.streams (stream_id, category, version, head_hash, updated_at)
    VALUES (p_stream, p_category, p_expected + n, v_hash, v_now)
    ON CONFLICT (stream_id) DO UPDATE
        SET version = EXCLUDED.version, head_hash = EXCLUDED.head_hash, updated_at = EXCLUDED.updated_at;
    IF p_summary IS NOT NULL THEN
        PERFORM public.pacte_project(p_summary, p_axis);
    END IF;
    RETURN QUERY SELECT 'appended'::text, p_expected + n, v_first;
END;
$$;

REVOKE ALL ON FUNCTION public.pacte_append(text, text, integer, uuid[], text[], integer[], jsonb[], jsonb[],
                                           timestamptz[], bytea[], jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.pacte_project(jsonb, jsonb) FROM PUBLIC;

-- The runtime role never writes a read-model row by itself: only pacte_append (running as the owner) projects, and
-- rebuilds run as the owner.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pacte_runtime') THEN
        REVOKE ALL ON FUNCTION public.pacte_project(jsonb, jsonb) FROM pacte_runtime;
    END IF;
END
$$;
