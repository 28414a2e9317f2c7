"""Adapters around the domain: HTTP (FastAPI + Mangum), Postgres (psycopg), settings (environment)."""
