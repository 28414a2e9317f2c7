"""The sync domain. It knows nothing of Starlette, FastAPI, boto3, psycopg or settings."""
