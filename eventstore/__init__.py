"""The PostgreSQL event store: the auditors' system of record (Temporal deletes closed histories).

Import ``eventstore.store`` for the asyncpg-backed store; ``eventstore.records`` holds plain models that workflow code
may import without pulling in a database driver.
"""
