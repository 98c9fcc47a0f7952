-- A contract's import file, kept under its hash (issue 27, item 7): the workflow receives the hash, not the lines,
-- and one activity decides the file and appends its history in one transaction. A file near the documented bounds
-- (2 000 facts, over a megabyte) is over Temporal's 2 MB payload limit as an update's input or an activity's; the
-- hash is 64 characters. The row is content-addressed: the database itself refuses a hash that is not the
-- content's, so a file read back by its hash is the file the préfet sent. Not the event record: a file the
-- contract refused stays here too, recording nothing.
CREATE TABLE IF NOT EXISTS import_files (
    digest       text PRIMARY KEY,
    contract_id  text NOT NULL,
    content      text NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT import_files_content_addressed
        CHECK (digest = encode(sha256(convert_to(content, 'UTF8')), 'hex'))
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pacte_runtime') THEN
        GRANT SELECT, INSERT ON import_files TO pacte_runtime;
    END IF;
END
$$;
