"""The API's document (openapi/openapi.yaml) against the code: one operation for every route and a route
for every operation, the error codes of the status table and no others, and none of it in a function's
imports. (That the running API answers as the document says: tests/integration/test_openapi_conformance.py.)"""

import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator
from starlette.routing import Route

from devserver.functions import FUNCTIONS_DIR
from devserver.openapi import load_document, operations, resolve
from sync_core.adapters.http.errors import STATUS_BY_ERROR
from sync_core.adapters.http.routes import ROUTERS


def served_routes() -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for router in ROUTERS.values()
        for route in router.routes
        if isinstance(route, Route)
        for method in route.methods
    }


def documented_operations() -> set[tuple[str, str]]:
    return {(method, path) for method, path, _ in operations(load_document())}


def test_every_route_has_an_operation_and_every_operation_a_route():
    # Given the routes every function serves and the operations the document describes
    routes, documented = served_routes(), documented_operations()
    # Then each has the other: a new route without its documentation fails here, by name
    assert routes - documented == set(), "routes missing from openapi/openapi.yaml"
    assert documented - routes == set(), "operations of openapi/openapi.yaml that no router serves"


def test_the_error_codes_are_the_status_tables():
    document = load_document()
    documented = set()
    for _method, _path, operation in operations(document):
        for status, response in operation["responses"].items():
            response = resolve(document, response)
            documented |= {(int(status), code) for code in response.get("x-error-codes", [])}
    assert documented == {(status, error.code) for error, status in STATUS_BY_ERROR.items()}


def test_every_operation_has_an_id_a_summary_and_its_admission_answers():
    for method, path, operation in operations(load_document()):
        assert operation.get("operationId") and operation.get("summary"), (method, path)
        # Every route admits a request the same way: credentials (401), limiter (429), Postgres (503).
        assert {"401", "429", "503"} <= set(operation["responses"]), (method, path)


@pytest.mark.parametrize("function", sorted(ROUTERS))
def test_a_function_does_not_load_the_document(function):
    # Given a fresh interpreter, as Lambda's cold start is
    script = f"""
import importlib.util, os, sys
os.environ.update(DATABASE_URL="postgresql://unused@localhost/unused", BETTER_AUTH_SECRET="unused")
spec = importlib.util.spec_from_file_location("app", {str(FUNCTIONS_DIR / function / "app.py")!r})
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(sorted(name for name in sys.modules if name.split(".")[0] in ("devserver", "yaml", "schemathesis")))
"""
    # When the function's module is imported
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    # Then neither the document's module nor its YAML parser was loaded
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_every_example_is_valid_for_its_schema():
    document = load_document()
    checked = 0
    for where, schema, example in _examples(document):
        # The components beside the schema, so that its "#/components/..." references resolve.
        validator = Draft202012Validator({**schema, "components": document["components"]})
        errors = [error.message for error in validator.iter_errors(example)]
        assert errors == [], where
        checked += 1
    assert checked >= 10


def _examples(document: dict):
    """(where, schema, example) for every example the document gives: schemas', parameters' and bodies'."""
    for name, schema in document["components"]["schemas"].items():
        if "example" in schema:
            yield f"schemas/{name}", schema, schema["example"]
    for name, parameter in document["components"]["parameters"].items():
        if "example" in parameter:
            yield f"parameters/{name}", parameter["schema"], parameter["example"]
    bodies = [
        (f"{method} {path}", operation["requestBody"])
        for method, path, operation in operations(document)
        if "requestBody" in operation
    ]
    bodies += [
        (f"{method} {path} {status}", resolve(document, response))
        for method, path, operation in operations(document)
        for status, response in operation["responses"].items()
    ]
    for where, body in bodies:
        for media_type, media in body.get("content", {}).items():
            if "example" in media:
                yield f"{where} {media_type}", media["schema"], media["example"]


def test_every_answer_documents_its_request_id():
    # Given the document's every response, a shared one resolved
    document = load_document()
    answers = [
        (method, path, status, resolve(document, response))
        for method, path, operation in operations(document)
        for status, response in operation["responses"].items()
    ]
    # Then each names the X-Request-Id header that every answer carries (sync_core.adapters.http.request_log)
    missing = [
        (method, path, status)
        for method, path, status, answer in answers
        if "X-Request-Id" not in answer.get("headers", {})
    ]
    assert missing == []
