-- The event store: append-only, hash-chained, in an order followers can trust.
CREATE TABLE IF NOT EXISTS streams (
    stream_id    text PRIMARY KEY,
    category     text NOT NULL,
    version      integer NOT NULL,
    head_hash    bytea NOT NULL,
    updated_at   timestamptz NOT NULL
) WITH (fillfactor = 50);  -- room on each page: moving a head is a HOT update, no index write

CREATE SEQUENCE IF NOT EXISTS events_position_seq;

CREATE TABLE IF NOT EXISTS events (
    global_position bigint PRIMARY KEY DEFAULT nextval('events_position_seq'),
    -- The appending transaction. Followers read in (tx_id, global_position) order and only below the oldest
    -- transaction still running, so an event that commits later can never land behind what they have read.
    tx_id           xid8 NOT NULL DEFAULT pg_current_xact_id(),
    stream_id       text NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    event_id        uuid NOT NULL UNIQUE,
    event_type      text NOT NULL,
    schema_version  integer NOT NULL,
    payload         jsonb NOT NULL,
    metadata        jsonb NOT NULL,
    occurred_at     timestamptz NOT NULL,  -- business time, from the workflow
    recorded_at     timestamptz NOT NULL,  -- record time, from this database's clock
    prev_hash       bytea NOT NULL,
    hash            bytea NOT NULL,
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);
CREATE INDEX IF NOT EXISTS events_follow ON events (tx_id, global_position);
CREATE INDEX IF NOT EXISTS events_occurred_at ON events (occurred_at);
CREATE INDEX IF NOT EXISTS events_recorded_at ON events (recorded_at);
CREATE INDEX IF NOT EXISTS events_type ON events (event_type, tx_id, global_position);

-- Append-only, enforced by the database itself.
CREATE OR REPLACE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER IF EXISTS events_append_only ON events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
DROP TRIGGER IF EXISTS events_no_truncate ON events;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
