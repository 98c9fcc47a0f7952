-- A read-model row changes only with the events that justify it (issue 25, item 6, in part).
--
-- The runtime role called pacte_append with no event and a crafted summary: a ghost contract appeared on the
-- préfet's list and in the national figures. Now the function refuses a summary without events, a summary or
-- amounts for another stream, a summary at a version the events do not reach, and a category that is not the
-- stream's. The same function as 006 otherwise: qualified names, pinned search_path, attributes in the CREATE.

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
    -- A read-model row changes only with the events that justify it: some events, for this very stream, the row
    -- at the version they reach. (The row's content is still the caller's projection of them; the store's digests
    -- and a rebuild from the events are what an auditor checks it against.)
    IF p_summary IS NOT NULL AND (
        n = 0
        OR p_summary OPERATOR(pg_catalog.->>) 'contract_id' IS DISTINCT FROM p_stream
        OR (p_summary OPERATOR(pg_catalog.->>) 'version') IS DISTINCT FROM (p_expected + n)::text
        OR (p_axis IS NOT NULL AND EXISTS (
            SELECT 1 FROM pg_catalog.jsonb_array_elements(p_axis) AS a(row_)
            WHERE a.row_ OPERATOR(pg_catalog.->>) 'contract_id' IS DISTINCT FROM p_stream))
    ) THEN
        RAISE EXCEPTION 'read model of % refused: a row changes only with the events appended to its stream, at the '
                        'version they reach', p_stream USING ERRCODE = 'check_violation';
    END IF;
    IF p_category IS DISTINCT FROM pg_catalog.split_part(p_stream, '-', 1) THEN
        RAISE EXCEPTION 'stream % cannot be in category %', p_stream, p_category USING ERRCODE = 'check_violation';
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
