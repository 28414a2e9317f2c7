"""The local server: every project route on one FastAPI app, an embedded Postgres, a dev sign-in."""
