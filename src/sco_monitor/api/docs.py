"""The docs page at /api/v1/docs: the OpenAPI schema as one self-contained HTML page (no script,
no external assets, so it works on a server without internet access)."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ info.title }} {{ info.version }}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font:13px ui-monospace,monospace;background:#f4f4f4;border-radius:3px}
pre{padding:.6rem;overflow-x:auto} h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
.op{margin:1.2rem 0;padding:.6rem .8rem;border-left:4px solid #8aa} .m{font-weight:700;text-transform:uppercase}
.scope{float:right;background:#eef;padding:0 .4rem;border-radius:3px} table{border-collapse:collapse}
td,th{padding:.15rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
</style></head><body>
<h1>{{ info.title }} <small>{{ info.version }}</small></h1>
<p>{{ info.description }}</p>
<p>Machine-readable schema: <a href="openapi.json">openapi.json</a>. Scopes are hierarchical:
read &lt; partner &lt; operator &lt; admin (a token of one scope passes every route of the scopes before it).</p>
{% for tag, ops in groups %}
<h2>{{ tag }}</h2>
{% for op in ops %}
<div class="op"><span class="scope">{{ op.scope }}</span><span class="m">{{ op.method }}</span> <code>{{ op.path }}</code>
<div>{{ op.summary }}</div>
{% if op.params %}<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th></tr>
{% for p in op.params %}<tr><td><code>{{ p.name }}</code></td><td>{{ p.in }}</td><td>{{ p.type }}</td><td>{{ 'yes' if p.required else '' }}</td></tr>{% endfor %}
</table>{% endif %}
{% if op.body %}<p>JSON body:</p><pre>{{ op.body }}</pre>{% endif %}
<pre>{{ op.curl }}</pre>
</div>
{% endfor %}{% endfor %}
</body></html>
"""
_template = Environment(autoescape=True).from_string(_TEMPLATE)


def _type(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"] if s.get("type") != "null")
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    return str(schema.get("format") or schema.get("type") or "object")


def _body(op: dict[str, Any], components: dict[str, Any]) -> str:
    ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    if not ref:
        return ""
    schema = components.get(ref.rsplit("/", 1)[-1], {})
    fields = {name: _type(s) + ("" if name not in schema.get("required", []) else " (required)")
              for name, s in schema.get("properties", {}).items()}
    return json.dumps(fields, indent=1)


def docs_page(openapi: dict[str, Any]) -> str:
    components = openapi.get("components", {}).get("schemas", {})
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, methods in openapi.get("paths", {}).items():
        for method, op in methods.items():
            params = [{"name": p["name"], "in": p["in"], "type": _type(p.get("schema", {})),
                       "required": p.get("required", False)} for p in op.get("parameters", [])]
            body = _body(op, components)
            curl = 'curl -H "Authorization: Bearer $TOKEN"'
            if method != "get":
                curl += f" -X {method.upper()}"
            if body:
                curl += " -H 'Content-Type: application/json' -d @body.json"
            curl += f" http://127.0.0.1:9464{path}"
            groups.setdefault((op.get("tags") or ["other"])[0], []).append({
                "method": method, "path": path, "summary": op.get("summary", ""),
                "scope": op.get("x-scope", "public"), "params": params, "body": body, "curl": curl})
    return _template.render(info=openapi.get("info", {}), groups=list(groups.items()))
