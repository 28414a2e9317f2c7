"""The API's contract (openapi/openapi.yaml), served by the local server only: as JSON at /openapi.json and
as a page at /docs, rendered here from the document so that it needs no CDN and no JavaScript. No Lambda
function imports this module: the document costs them nothing at cold start."""

import html
import json
import re
from functools import cache
from pathlib import Path

import yaml
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

DOCUMENT = Path(__file__).resolve().parent.parent / "openapi" / "openapi.yaml"
METHODS = ("get", "head", "put", "post", "delete", "patch", "options")


@cache
def load_document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


def openapi_router() -> APIRouter:
    router = APIRouter()

    @router.get("/openapi.json", include_in_schema=False)
    def openapi_json() -> JSONResponse:
        return JSONResponse(load_document())

    @router.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(render_page(load_document()))

    return router


def operations(document: dict) -> list[tuple[str, str, dict]]:
    """Every (METHOD, path, operation) of the document, in its order."""
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def render_page(document: dict) -> str:
    info = document["info"]
    sections = [
        _operation_section(document, method, path, operation) for method, path, operation in operations(document)
    ]
    schemas = [
        f'<section id="schema-{name}"><h3>{name}</h3>{_schema_block(schema)}</section>'
        for name, schema in document["components"]["schemas"].items()
    ]
    security = [
        f"<li><code>{name}</code>: {_text(scheme.get('description', ''))}</li>"
        for name, scheme in document["components"]["securitySchemes"].items()
    ]
    contents = "".join(
        f'<li><a href="#{operation["operationId"]}"><code>{method} {html.escape(path)}</code></a> '
        f"{_text(operation.get('summary', ''))}</li>"
        for method, path, operation in operations(document)
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(info["title"])} API</title>
<style>{PAGE_STYLE}</style>
</head>
<body>
<h1>{html.escape(info["title"])} API <small>{html.escape(info["version"])}</small></h1>
<p>{_text(info.get("summary", ""))} The document itself: <a href="/openapi.json">/openapi.json</a> (OpenAPI
{html.escape(document["openapi"])}).</p>
{_text(info.get("description", ""))}
<h2>Authentication</h2><ul>{"".join(security)}</ul>
<h2>Operations</h2><ul>{contents}</ul>
{"".join(sections)}
<h2>Schemas</h2>
{"".join(schemas)}
</body>
</html>
"""


def _operation_section(document: dict, method: str, path: str, operation: dict) -> str:
    item = document["paths"][path]
    parameters = [resolve(document, p) for p in [*item.get("parameters", []), *operation.get("parameters", [])]]
    rows = "".join(
        f"<tr><td><code>{html.escape(p['name'])}</code></td><td>{p['in']}</td>"
        f"<td>{'yes' if p.get('required') else 'no'}</td><td>{_text(p.get('description', ''))}</td>"
        f"<td>{_schema_block(p.get('schema', {}))}</td></tr>"
        for p in parameters
    )
    parts = [
        f'<section class="operation" id="{operation["operationId"]}">',
        f'<h3><span class="method">{method}</span> <code>{html.escape(path)}</code></h3>',
        f"<p>{_text(operation.get('summary', ''))}</p>",
        _text(operation.get("description", "")),
    ]
    if rows:
        parts.append(
            "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>description</th><th>schema</th></tr>"
            f"{rows}</table>"
        )
    if "requestBody" in operation:
        body = operation["requestBody"]
        required = "required" if body.get("required") else "optional"
        parts.append(f"<h4>Request body ({required})</h4>{_content(document, body.get('content', {}))}")
    parts.append("<h4>Responses</h4><dl>")
    for status, response in operation["responses"].items():
        response = resolve(document, response)
        codes = ", ".join(f"<code>{code}</code>" for code in response.get("x-error-codes", []))
        headers = ", ".join(f"<code>{html.escape(name)}</code>" for name in response.get("headers", {}))
        parts.append(
            f"<dt>{status}</dt><dd>{_text(response['description'])}"
            + (f" Error codes: {codes}." if codes else "")
            + (f" Headers: {headers}." if headers else "")
            + _content(document, response.get("content", {}))
            + "</dd>"
        )
    parts.append("</dl></section>")
    return "\n".join(parts)


def _content(document: dict, content: dict) -> str:
    blocks = []
    for media_type, media in content.items():
        blocks.append(f"<p><code>{html.escape(media_type)}</code></p>{_schema_block(media.get('schema', {}))}")
        example = media.get("example", resolve(document, media.get("schema", {})).get("example"))
        if example is not None:
            blocks.append(f"<p>Example:</p><pre>{html.escape(json.dumps(example, indent=2))}</pre>")
    return "".join(blocks)


def resolve(document: dict, node: dict) -> dict:
    """`node` itself, or what its local `$ref` points to."""
    reference = node.get("$ref")
    if reference is None:
        return node
    target = document
    for part in reference.removeprefix("#/").split("/"):
        target = target[part]
    return target


def _schema_block(schema: dict) -> str:
    """The schema as JSON, each reference to a component schema a link to it (a bare reference: the link)."""
    if set(schema) == {"$ref"} and schema["$ref"].startswith("#/components/schemas/"):
        name = schema["$ref"].rpartition("/")[2]
        return f'<p>Schema: <a href="#schema-{name}"><code>{name}</code></a></p>'
    text = html.escape(json.dumps(schema, indent=2))
    return (
        "<pre>"
        + re.sub(r"&quot;#/components/schemas/(\w+)&quot;", r'<a href="#schema-\1">&quot;\1&quot;</a>', text)
        + "</pre>"
    )


def _text(markdown: str) -> str:
    """The little Markdown the document uses: paragraphs and `code`."""
    paragraphs = [p.strip() for p in markdown.split("\n\n") if p.strip()]
    rendered = [re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(p, quote=False)) for p in paragraphs]
    if len(rendered) == 1 and "\n" not in markdown.strip():
        return rendered[0]
    return "".join(f"<p>{p}</p>" for p in rendered)


PAGE_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
code, pre { font: 13px/1.4 ui-monospace, monospace; }
pre { background: #f5f5f7; padding: .5rem; overflow-x: auto; margin: .25rem 0; }
section.operation { border-top: 1px solid #d2d2d7; margin-top: 2rem; }
.method { background: #0a66c2; color: white; padding: 0 .4rem; border-radius: 3px; font-size: 13px; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #d2d2d7; padding: .25rem; }
dt { font-weight: bold; margin-top: .5rem; } small { color: #6e6e73; }
"""
