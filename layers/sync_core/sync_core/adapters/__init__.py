"""Adapters around the domain: HTTP (Starlette behind an API Gateway event adapter), Postgres (psycopg),
settings (environment)."""
