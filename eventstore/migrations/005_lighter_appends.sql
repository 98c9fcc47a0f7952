-- Lighter appends (issue 16, guided by profiles).
--
-- Three indexes no query uses: every lookup by time is per stream (the (stream_id, version) key, then a filter on
-- occurred_at or recorded_at), and no follower filters by event type alone. Each cost an index insertion and its
-- WAL on every event appended.
DROP INDEX IF EXISTS events_occurred_at;
DROP INDEX IF EXISTS events_recorded_at;
DROP INDEX IF EXISTS events_type;

-- The amounts per year and axis are written only when they change: the projector passes NULL for p_axis when the
-- append moves no money (most events), and the rows already held are the same as it would write.
CREATE OR REPLACE FUNCTION pacte_project(p_summary jsonb, p_axis jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contract_summary SELECT * FROM jsonb_populate_record(NULL::contract_summary, p_summary)
    ON CONFLICT (contract_id) DO UPDATE SET
        territory_id = EXCLUDED.territory_id, territory_name = EXCLUDED.territory_name, kind = EXCLUDED.kind,
        region = EXCLUDED.region, status = EXCLUDED.status, current_year = EXCLUDED.current_year,
        annual_ceiling = EXCLUDED.annual_ceiling, version = EXCLUDED.version,
        last_event_at = EXCLUDED.last_event_at, state = EXCLUDED.state;
    IF p_axis IS NOT NULL THEN
        DELETE FROM contract_axis_year WHERE contract_id = p_summary->>'contract_id';
        INSERT INTO contract_axis_year SELECT * FROM jsonb_populate_recordset(NULL::contract_axis_year, p_axis);
    END IF;
END;
$$;
