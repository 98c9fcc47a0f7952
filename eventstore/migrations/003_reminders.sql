-- The reminders outbox: deadlines coming up, for operators to list (and, later, a mailer to send).
CREATE TABLE IF NOT EXISTS reminders (
    contract_id  text NOT NULL,
    deadline     text NOT NULL,
    year         integer NOT NULL DEFAULT 0,  -- 0 when the deadline is not tied to a programme year
    due          date NOT NULL,
    remind_on    date NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    PRIMARY KEY (contract_id, deadline, year)
);
CREATE INDEX IF NOT EXISTS reminders_due ON reminders (due);
