-- The database computes the chain's digests, and a read-model row moves only as the events appended allow (issue 25,
-- item 6).
--
-- Until now the caller passed each event's content digest: the runtime role could store any chain it liked. Now it
-- passes each event's canonical text (the JSON document the verifier hashes: stream, version, id, type, schema
-- version, payload, metadata, business time; sorted keys, no spaces), and the function takes every column from that
-- text, checks it names this stream at the version it lands on, keeps it (events.canonical) and chains
--     hash = sha256(prev_hash || sha256(canonical text) || recorded_at as UTC text)
-- itself. That is the very formula of 002 with the content digest now computed here: the events appended before this
-- migration (canonical NULL) verify as they did, and eventstore/integrity.py recomputes both kinds the same way.
--
-- Migration 008 refused a summary without events, for another stream, or at a version the events do not reach. A
-- summary beside one junk event still made a contract appear. Now a read-model row is refused unless it agrees with
-- the events: the stream is a contract's (its first event is a ContractProposed), the territory's columns are that
-- proposal's, the business time is no earlier than the events' latest and no later than the latest known, and the
-- status, the programme year, the ceiling and the amounts change only with an event of a kind that changes them (to a
-- status that kind leads to). The row's other content (the state's details) is still the caller's fold of the
-- events: see the README's security section.

ALTER TABLE public.events ADD COLUMN IF NOT EXISTS canonical text;

-- What each kind of fact may do to a contract's row (domain/evolve.py): the statuses it leads to, and whether it may
-- move the programme year, the ceiling or the amounts (the proposal sets the ceiling it names, and no amounts). A late fact of a signed contract folds again the calendar's
-- facts after it (domain/late_facts.py): a year opening (IN_EXECUTION) or the closing (CLOSING) may then follow.
CREATE TABLE IF NOT EXISTS public.read_model_effects (
    event_type    text PRIMARY KEY,
    statuses      text[] NOT NULL DEFAULT '{}',
    moves_year    boolean NOT NULL DEFAULT false,
    moves_ceiling boolean NOT NULL DEFAULT false,
    moves_amounts boolean NOT NULL DEFAULT false
);
INSERT INTO public.read_model_effects (event_type, statuses, moves_year, moves_ceiling, moves_amounts) VALUES
    ('ContractProposed', '{PROPOSED}', false, false, false),
    ('ActionAdded', '{NEGOTIATING}', false, false, true),
    ('ActionChanged', '{NEGOTIATING}', false, false, true),
    ('ActionRemoved', '{NEGOTIATING}', false, false, true),
    ('DeliberationRecorded', '{DELIBERATED}', false, false, false),
    ('ContractSigned', '{SIGNED,IN_EXECUTION,CLOSING}', false, false, false),
    ('ProgrammeYearOpened', '{IN_EXECUTION}', true, false, false),
    ('AnnualProgrammeSet', '{}', false, false, true),
    ('AvenantConcluded', '{}', false, true, true),
    ('ContractSuspended', '{SUSPENDED,IN_EXECUTION,CLOSING}', false, false, false),
    ('ContractResumed', '{IN_EXECUTION,CLOSING}', false, false, false),
    ('ContractTerminated', '{TERMINATED,CLOSING}', false, false, false),
    ('ClosingBegun', '{CLOSING}', false, false, false),
    ('ContractClosed', '{CLOSED}', false, false, false),
    ('CalendarFactWithdrawn', '{SIGNED,IN_EXECUTION,SUSPENDED,CLOSING}', true, false, false)
ON CONFLICT (event_type) DO NOTHING;

-- The caller no longer passes digests: the function of 008 goes, with its signature.
DROP FUNCTION IF EXISTS public.pacte_append(text, text, integer, uuid[], text[], integer[], jsonb[], jsonb[],
                                            timestamptz[], bytea[], jsonb, jsonb);

CREATE OR REPLACE FUNCTION public.pacte_append(
    p_stream text, p_category text, p_expected integer, p_events text[], p_summary jsonb, p_axis jsonb
) RETURNS TABLE (outcome text, stream_version integer, first_position bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_version integer;
    v_hash bytea;
    v_now timestamptz := pg_catalog.clock_timestamp();
    v_stamp bytea;
    v_first bigint;
    v_doc jsonb;
    v_occurred timestamptz;
    v_types text[] := '{}';
    v_last timestamptz;
    v_ids uuid[] := '{}';
    v_names text[] := '{}';
    v_schemas integer[] := '{}';
    v_payloads jsonb[] := '{}';
    v_metadata jsonb[] := '{}';
    v_occurreds timestamptz[] := '{}';
    v_prev bytea[] := '{}';
    v_hashes bytea[] := '{}';
    v_old record;
    v_proposal jsonb;
    v_effects record;
    n integer := COALESCE(pg_catalog.cardinality(p_events), 0);
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
    IF p_category IS DISTINCT FROM pg_catalog.split_part(p_stream, '-', 1) THEN
        RAISE EXCEPTION 'stream % cannot be in category %', p_stream, p_category USING ERRCODE = 'check_violation';
    END IF;
    v_stamp := pg_catalog.convert_to(
        pg_catalog.to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8');
    -- Each event from its canonical text, which must name this stream at the version it lands on, and nothing else.
    FOR i IN 1..n LOOP
        v_doc := p_events[i]::jsonb;
        IF pg_catalog.jsonb_typeof(v_doc) IS DISTINCT FROM 'object'
           OR (v_doc OPERATOR(pg_catalog.-) ARRAY['stream_id', 'version', 'event_id', 'event_type', 'schema_version',
                                                  'payload', 'metadata', 'occurred_at'])
              OPERATOR(pg_catalog.<>) '{}'::jsonb
           OR (v_doc OPERATOR(pg_catalog.->>) 'stream_id') IS DISTINCT FROM p_stream
           OR (v_doc OPERATOR(pg_catalog.->) 'version')::text IS DISTINCT FROM (p_expected + i)::text
           OR pg_catalog.jsonb_typeof(v_doc OPERATOR(pg_catalog.->) 'schema_version') IS DISTINCT FROM 'number'
           OR pg_catalog.jsonb_typeof(v_doc OPERATOR(pg_catalog.->) 'event_type') IS DISTINCT FROM 'string'
           OR pg_catalog.jsonb_typeof(v_doc OPERATOR(pg_catalog.->) 'payload') IS DISTINCT FROM 'object'
           OR pg_catalog.jsonb_typeof(v_doc OPERATOR(pg_catalog.->) 'metadata') IS DISTINCT FROM 'object' THEN
            RAISE EXCEPTION 'event % of stream %: its canonical text must name this stream, this version, and hold '
                            'exactly the event''s fields', p_expected + i, p_stream USING ERRCODE = 'check_violation';
        END IF;
        v_occurred := (v_doc OPERATOR(pg_catalog.->>) 'occurred_at')::timestamptz;
        IF pg_catalog.to_char(v_occurred AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
               IS DISTINCT FROM (v_doc OPERATOR(pg_catalog.->>) 'occurred_at')
           OR (v_doc OPERATOR(pg_catalog.->>) 'event_id')::uuid::text
               IS DISTINCT FROM (v_doc OPERATOR(pg_catalog.->>) 'event_id')
           OR (v_doc OPERATOR(pg_catalog.->) 'schema_version')::text::integer::text
               IS DISTINCT FROM (v_doc OPERATOR(pg_catalog.->) 'schema_version')::text THEN
            RAISE EXCEPTION 'event % of stream %: its id, schema version or business time is not in canonical form',
                            p_expected + i, p_stream USING ERRCODE = 'check_violation';
        END IF;
        v_ids := pg_catalog.array_append(v_ids, (v_doc OPERATOR(pg_catalog.->>) 'event_id')::uuid);
        v_names := pg_catalog.array_append(v_names, v_doc OPERATOR(pg_catalog.->>) 'event_type');
        v_schemas := pg_catalog.array_append(v_schemas, (v_doc OPERATOR(pg_catalog.->>) 'schema_version')::integer);
        v_payloads := pg_catalog.array_append(v_payloads, v_doc OPERATOR(pg_catalog.->) 'payload');
        v_metadata := pg_catalog.array_append(v_metadata, v_doc OPERATOR(pg_catalog.->) 'metadata');
        v_occurreds := pg_catalog.array_append(v_occurreds, v_occurred);
        v_types := pg_catalog.array_append(v_types,
                                           (v_doc OPERATOR(pg_catalog.->) 'payload') OPERATOR(pg_catalog.->>) 'type');
        v_last := GREATEST(v_last, v_occurred);
        v_prev := pg_catalog.array_append(v_prev, v_hash);
        v_hash := pg_catalog.sha256(v_hash || pg_catalog.sha256(pg_catalog.convert_to(p_events[i], 'UTF8')) || v_stamp);
        v_hashes := pg_catalog.array_append(v_hashes, v_hash);
    END LOOP;

    IF p_summary IS NOT NULL THEN
        -- A read-model row changes only with the events that justify it.
        IF n = 0 OR p_category IS DISTINCT FROM 'cls'
           OR (p_summary OPERATOR(pg_catalog.->>) 'contract_id') IS DISTINCT FROM p_stream
           OR (p_summary OPERATOR(pg_catalog.->>) 'version') IS DISTINCT FROM (p_expected + n)::text
           OR (p_axis IS NOT NULL AND EXISTS (
               SELECT 1 FROM pg_catalog.jsonb_array_elements(p_axis) AS a(row_)
               WHERE a.row_ OPERATOR(pg_catalog.->>) 'contract_id' IS DISTINCT FROM p_stream)) THEN
            RAISE EXCEPTION 'read model of % refused: a row changes only with the events appended to its stream, at '
                            'the version they reach', p_stream USING ERRCODE = 'check_violation';
        END IF;
        -- The columns compared only: the row's folded state is large, and left unread.
        SELECT c.contract_id, c.territory_id, c.territory_name, c.kind, c.region, c.status, c.current_year,
               c.annual_ceiling, c.last_event_at
        INTO v_old FROM public.contract_summary c WHERE c.contract_id = p_stream;
        IF p_expected = 0 THEN
            v_proposal := v_payloads[1];
        ELSIF v_old.contract_id IS NOT NULL THEN
            v_proposal := pg_catalog.jsonb_build_object(
                'type', 'ContractProposed', 'territory_id', v_old.territory_id, 'territory_name',
                v_old.territory_name, 'kind', v_old.kind, 'region', v_old.region);
        ELSE
            SELECT e.payload INTO v_proposal FROM public.events e WHERE e.stream_id = p_stream AND e.version = 1;
        END IF;
        SELECT COALESCE(pg_catalog.array_agg(DISTINCT s.status) FILTER (WHERE s.status IS NOT NULL), '{}')
                   AS statuses,
               COALESCE(pg_catalog.bool_or(r.moves_year), false) AS moves_year,
               COALESCE(pg_catalog.bool_or(r.moves_ceiling), false) AS moves_ceiling,
               COALESCE(pg_catalog.bool_or(r.moves_amounts), false) AS moves_amounts
        INTO v_effects
        FROM public.read_model_effects r LEFT JOIN LATERAL pg_catalog.unnest(r.statuses) AS s(status) ON true
        WHERE r.event_type OPERATOR(pg_catalog.=) ANY (v_types);
        IF (v_proposal OPERATOR(pg_catalog.->>) 'type') IS DISTINCT FROM 'ContractProposed'
           OR (p_summary OPERATOR(pg_catalog.->>) 'territory_id')
              IS DISTINCT FROM (v_proposal OPERATOR(pg_catalog.->>) 'territory_id')
           OR (p_summary OPERATOR(pg_catalog.->>) 'territory_name')
              IS DISTINCT FROM (v_proposal OPERATOR(pg_catalog.->>) 'territory_name')
           OR (p_summary OPERATOR(pg_catalog.->>) 'kind') IS DISTINCT FROM (v_proposal OPERATOR(pg_catalog.->>) 'kind')
           OR (p_summary OPERATOR(pg_catalog.->>) 'region')
              IS DISTINCT FROM COALESCE(v_proposal OPERATOR(pg_catalog.->>) 'region', '')
           -- The latest business time: at least the latest appended fact's, at most the latest known (a withdrawn
           -- calendar fact takes its date away with it).
           OR NOT COALESCE((p_summary OPERATOR(pg_catalog.->>) 'last_event_at')::timestamptz
                           BETWEEN v_last AND GREATEST(v_old.last_event_at, v_last), false)
           OR NOT COALESCE(
               (p_summary OPERATOR(pg_catalog.->>) 'status') OPERATOR(pg_catalog.=) ANY (v_effects.statuses)
               OR (p_summary OPERATOR(pg_catalog.->>) 'status') IS NOT DISTINCT FROM v_old.status, false)
           OR (NOT v_effects.moves_year
               AND (p_summary OPERATOR(pg_catalog.->>) 'current_year') IS DISTINCT FROM v_old.current_year::text)
           OR (NOT v_effects.moves_ceiling
               AND (p_summary OPERATOR(pg_catalog.->>) 'annual_ceiling')
                   IS DISTINCT FROM COALESCE(v_old.annual_ceiling::text,
                                             v_proposal OPERATOR(pg_catalog.->>) 'annual_ceiling'))
           OR (NOT v_effects.moves_amounts AND p_axis IS NOT NULL)
           -- The state shown beside the columns says the same as they do.
           OR (p_summary OPERATOR(pg_catalog.#>>) '{state,contract_id}') IS DISTINCT FROM p_stream
           OR (p_summary OPERATOR(pg_catalog.#>>) '{state,version}') IS DISTINCT FROM (p_expected + n)::text
           OR (p_summary OPERATOR(pg_catalog.#>>) '{state,status}')
              IS DISTINCT FROM (p_summary OPERATOR(pg_catalog.->>) 'status')
           OR (p_summary OPERATOR(pg_catalog.#>>) '{state,territory_name}')
              IS DISTINCT FROM (p_summary OPERATOR(pg_catalog.->>) 'territory_name')
           OR (p_summary OPERATOR(pg_catalog.#>>) '{state,current_year}')
              IS DISTINCT FROM (p_summary OPERATOR(pg_catalog.->>) 'current_year')
           OR (p_summary OPERATOR(pg_catalog.#>>) '{state,annual_ceiling}')
              IS DISTINCT FROM (p_summary OPERATOR(pg_catalog.->>) 'annual_ceiling') THEN
            RAISE EXCEPTION 'read model of % refused: the row does not follow from the events appended', p_stream
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;

    IF n = 0 THEN  -- nothing to append: no stream head without its events (verify would call it a lost stream)
        RETURN QUERY SELECT 'appended'::text, p_expected, NULL::bigint;
        RETURN;
    END IF;
    WITH inserted AS (
        INSERT INTO public.events (stream_id, version, event_id, event_type, schema_version, payload, metadata,
                                   occurred_at, recorded_at, prev_hash, hash, canonical)
        SELECT p_stream, p_expected + t.ord::integer, t.id, t.typ, t.sch, t.pay, t.meta, t.occ, v_now, t.prev, t.h,
               t.txt
        FROM ROWS FROM (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_names), pg_catalog.unnest(v_schemas),
                        pg_catalog.unnest(v_payloads), pg_catalog.unnest(v_metadata), pg_catalog.unnest(v_occurreds),
                        pg_catalog.unnest(v_prev), pg_catalog.unnest(v_hashes), pg_catalog.unnest(p_events))
             WITH ORDINALITY AS t(id, typ, sch, pay, meta, occ, prev, h, txt, ord)
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

REVOKE ALL ON FUNCTION public.pacte_append(text, text, integer, text[], jsonb, jsonb) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pacte_runtime') THEN
        GRANT EXECUTE ON FUNCTION public.pacte_append(text, text, integer, text[], jsonb, jsonb) TO pacte_runtime;
        GRANT SELECT ON public.read_model_effects TO pacte_runtime;
    END IF;
END
$$;
