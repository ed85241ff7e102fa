"""Human text of a notification: subject, plain text, HTML (jinja2, autoescaped) and Slack text.

Alert groups read like an Alertmanager mail: `[FIRING:2] critical · fx · KAZ`, then the firing
and resolved alerts with value, threshold and since when. Digests carry their own text.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from sco_monitor.alerting.channels import Message

_env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def _num(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _where(item: dict[str, Any]) -> str:
    labels = item.get("labels", {})
    target = item.get("series_id") or labels.get("series") or labels.get("scope") or labels.get("country") or ""
    return f"{item['rule']} {target}".strip()


def _line(item: dict[str, Any]) -> str:
    head = f"[{item['severity']}] {_where(item)}"
    body = item.get("summary") or ""
    detail = f"value {_num(item.get('value'))}, threshold {_num(item.get('threshold'))}"
    if item["status"] == "firing":
        detail += f", since {(item.get('starts_at') or '')[:16].replace('T', ' ')}"
    elif item.get("note"):
        detail += f"; {item['note']}"
    return f"{head}: {body}\n    {detail}" if body else f"{head}\n    {detail}"


def _group_name(p: dict[str, Any]) -> str:
    values = [v for v in p.get("group_labels", {}).values() if v]
    return " · ".join(values) if values else "all alerts"


def subject(m: Message) -> str:
    p = m.payload
    if m.kind == "digest":
        return str(p["subject"])
    if m.kind == "heartbeat":
        return f"[sco-monitor] heartbeat: alive at {str(p.get('at', ''))[:16].replace('T', ' ')} UTC"
    if m.kind == "test":
        return "[sco-monitor] test notification"
    c = p.get("counts", {})
    parts = []
    if c.get("firing"):
        parts.append(f"FIRING:{c['firing']}")
    if c.get("resolved"):
        parts.append(f"RESOLVED:{c['resolved']}")
    sev = f"{p['severity']} · " if p.get("severity") else ""
    return f"[{', '.join(parts) or 'RESOLVED'}] {sev}{_group_name(p)}"


def text(m: Message) -> str:
    p = m.payload
    if m.kind == "digest":
        return str(p["text"])
    if m.kind in ("heartbeat", "test"):
        lines = [subject(m), ""] + [f"{k}: {v}" for k, v in p.items()]
        return "\n".join(lines) + f"\n\nnotification id: {m.key}\n"
    firing = [i for i in p["alerts"] if i["status"] == "firing"]
    resolved = [i for i in p["alerts"] if i["status"] == "resolved"]
    out = [subject(m), f"as of {p.get('as_of')} · {_reason(p.get('reason'))}", ""]
    if firing:
        out += [f"FIRING ({len(firing)})"] + [f"- {_line(i)}" for i in firing] + [""]
    if resolved:
        out += [f"RESOLVED ({len(resolved)})"] + [f"- {_line(i)}" for i in resolved] + [""]
    out.append(f"notification id: {m.key} (a repeated delivery carries the same id)")
    return "\n".join(out) + "\n"


_REASONS = {"first": "new alert group", "new_alerts": "new alerts in the group",
            "severity_changed": "severity changed", "resolved": "alerts resolved",
            "repeat": "still firing (reminder)"}


def _reason(r: str | None) -> str:
    return _REASONS.get(r or "", r or "")


_HTML = _env.from_string("""<!doctype html>
<html><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1d2330">
<h2 style="margin:0 0 4px 0">{{ subject }}</h2>
<p style="color:#5a6270;margin:0 0 16px 0">as of {{ p.as_of }} &middot; {{ reason }}</p>
{% for title, items in sections %}{% if items %}
<h3 style="margin:16px 0 6px 0">{{ title }} ({{ items|length }})</h3>
<table cellpadding="6" style="border-collapse:collapse;font-size:14px">
<tr style="background:#eef0f4;text-align:left"><th>severity</th><th>alert</th><th>summary</th><th>value</th><th>threshold</th><th>since</th></tr>
{% for i in items %}
<tr style="border-top:1px solid #dde1e8">
<td style="color:{{ colors.get(i.severity, '#333') }};font-weight:600">{{ i.severity }}</td>
<td>{{ where(i) }}</td><td>{{ i.summary }}{% if i.note %} <em>({{ i.note }})</em>{% endif %}</td>
<td>{{ num(i.value) }}</td><td>{{ num(i.threshold) }}</td><td>{{ (i.starts_at or '')[:16]|replace('T', ' ') }}</td>
</tr>
{% endfor %}
</table>
{% endif %}{% endfor %}
<p style="color:#8a919c;font-size:12px;margin-top:20px">notification id {{ key }} &middot; a repeated delivery carries the same id</p>
</body></html>
""")

_SIMPLE_HTML = _env.from_string("""<!doctype html>
<html><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family:system-ui,sans-serif"><h2>{{ subject }}</h2>
<table cellpadding="4">{% for k, v in p.items() %}<tr><th style="text-align:left">{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
<p style="color:#8a919c;font-size:12px">notification id {{ key }}</p></body></html>
""")

_COLORS = {"critical": "#b3261e", "warn": "#a15c00", "no_data": "#5a6270"}


def html(m: Message) -> str:
    p = m.payload
    if m.kind == "digest":
        return str(p["html"])
    if m.kind in ("heartbeat", "test"):
        return _SIMPLE_HTML.render(subject=subject(m), p=p, key=m.key)
    sections = [("Firing", [i for i in p["alerts"] if i["status"] == "firing"]),
                ("Resolved", [i for i in p["alerts"] if i["status"] == "resolved"])]
    return _HTML.render(subject=subject(m), p=p, reason=_reason(p.get("reason")), sections=sections,
                        colors=_COLORS, where=_where, num=_num, key=m.key)


def slack(m: Message) -> dict[str, Any]:
    """A Slack/Mattermost-compatible body: `text` in mrkdwn."""
    if m.kind == "digest":
        return {"text": f"*{m.payload['subject']}*\n{m.payload['text']}"}
    body = text(m).split("\n", 1)
    return {"text": f"*{body[0]}*\n{body[1] if len(body) > 1 else ''}".rstrip()}
