"""The sync domain. It knows nothing of FastAPI, Mangum, boto3, psycopg or settings."""
