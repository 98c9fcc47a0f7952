-- Runs once, when the event store's PostgreSQL is created, as the superuser:
--  * pacte, the owner role the migrations run as: it owns the database (and so, on PostgreSQL 15+, its public schema)
--    but is no superuser, may create no role and no database;
--  * pacte_runtime, the role the API and the worker log in as (migration 004 gives it its rights: read, append
--    through pacte_append, the outbox; never rewrite history).
-- Change both passwords with the others before using this outside a laptop.
CREATE ROLE pacte LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD 'pacte';
CREATE ROLE pacte_runtime LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD 'pacte_runtime';
CREATE DATABASE pacte OWNER pacte;
\connect pacte
-- PostgreSQL 14 and older give CREATE on public to everyone; from 15 only the database's owner has it.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
