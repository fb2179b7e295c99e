"""The class map's storage (vision_core/classroom) on SQLite and on a real PostgreSQL server."""
