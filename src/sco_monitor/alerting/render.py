"""Human text of a notification: subject, plain text, HTML (jinja2, autoescaped) and Slack text.

Alert groups read like an Alertmanager mail: `[FIRING:2] critical · fx · KAZ`, then the firing
and resolved alerts with value, threshold and since when. Digests carry their own text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from jinja2 import Environment

from sco_monitor import i18n
from sco_monitor.alerting.channels import Message
from sco_monitor.i18n import N_, _
from sco_monitor.reports.numbers import country_name, fmt_value

_env = i18n.install(Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"]))


def _num(v: Any, kind: str | None = None) -> str:
    """A value as the report writes it (by rule kind), in the active language."""
    if v is None:
        return _("n/a")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return fmt_value(v, kind)
    return str(v)


def _day(iso: str | None) -> str:
    try:
        return i18n.day(date.fromisoformat(iso)) if iso else ""
    except ValueError:
        return iso or ""


def _time(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ")


def summary(item: dict[str, Any]) -> str:
    """The rule's summary: its own (English) text, or a sentence with the same numbers in the active language."""
    if i18n.current() == i18n.DEFAULT:
        return item.get("summary") or ""
    labels = item.get("labels", {})
    where = item.get("series_id") or labels.get("series") or country_name(labels.get("scope") or labels.get("country"))
    return _("%(rule)s (%(where)s): value %(value)s, threshold %(threshold)s, %(severity)s",
             rule=item["rule"], where=where or "·", value=_num(item.get("value"), item.get("kind")),
             threshold=_num(item.get("threshold"), item.get("kind")), severity=i18n.severity_name(item["severity"]))


def _where(item: dict[str, Any]) -> str:
    labels = item.get("labels", {})
    target = item.get("series_id") or labels.get("series") or labels.get("scope") or labels.get("country") or ""
    return f"{item['rule']} {target}".strip()


def _line(item: dict[str, Any]) -> str:
    head = f"[{i18n.severity_name(item['severity'])}] {_where(item)}"
    body = item.get("summary") or "" if i18n.current() == i18n.DEFAULT else ""  # elsewhere head + detail say it all
    kind = item.get("kind")
    detail = _("value %(value)s, threshold %(threshold)s", value=_num(item.get("value"), kind),
               threshold=_num(item.get("threshold"), kind))
    if item["status"] == "firing":
        detail += ", " + _("since %(time)s", time=_time(item.get("starts_at")))
    elif item.get("note"):
        detail += f"; {_note(item)}"
    return f"{head}: {body}\n    {detail}" if body else f"{head}\n    {detail}"


def _label(key: str, value: str) -> str:
    """A group label as the reader says it: English keeps the codes (fx · KAZ), others get words."""
    if i18n.current() == i18n.DEFAULT:
        return value
    if key == "category":
        return i18n.category_name(value)
    if key in ("country", "scope"):
        return country_name(value)
    if key == "severity":
        return i18n.severity_name(value)
    return value


def _group_name(p: dict[str, Any]) -> str:
    values = [_label(k, v) for k, v in p.get("group_labels", {}).items() if v]
    return " · ".join(values) if values else _("all alerts")


def subject(m: Message) -> str:
    p = m.payload
    if m.kind == "digest":
        return str(p["subject"])
    if m.kind == "heartbeat":
        return "[sco-monitor] " + _("heartbeat: alive at %(time)s UTC", time=_time(str(p.get("at", ""))))
    if m.kind == "test":
        return "[sco-monitor] " + _("test notification")
    c = p.get("counts", {})
    parts = []
    if c.get("firing"):
        parts.append(_("FIRING:%(n)s", n=c["firing"]))
    if c.get("resolved"):
        parts.append(_("RESOLVED:%(n)s", n=c["resolved"]))
    sev = f"{i18n.severity_name(p['severity'])} · " if p.get("severity") else ""
    return f"[{', '.join(parts) or _('RESOLVED')}] {sev}{_group_name(p)}"


def text(m: Message) -> str:
    p = m.payload
    if m.kind == "digest":
        return str(p["text"])
    if m.kind in ("heartbeat", "test"):
        lines = [subject(m), ""] + [f"{k}: {v}" for k, v in p.items()]
        return "\n".join(lines) + "\n\n" + _("notification id: %(key)s", key=m.key) + "\n"
    firing = [i for i in p["alerts"] if i["status"] == "firing"]
    resolved = [i for i in p["alerts"] if i["status"] == "resolved"]
    out = [subject(m), _("as of %(date)s", date=_day(p.get("as_of"))) + f" · {_reason(p.get('reason'))}", ""]
    if firing:
        out += [_("FIRING (%(n)s)", n=len(firing))] + [f"- {_line(i)}" for i in firing] + [""]
    if resolved:
        out += [_("RESOLVED (%(n)s)", n=len(resolved))] + [f"- {_line(i)}" for i in resolved] + [""]
    out.append(_("notification id: %(key)s (a repeated delivery carries the same id)", key=m.key))
    return "\n".join(out) + "\n"


_REASONS = {"first": N_("new alert group"), "new_alerts": N_("new alerts in the group"),
            "severity_changed": N_("severity changed"), "resolved": N_("alerts resolved"),
            "repeat": N_("still firing (reminder)")}


def _reason(r: str | None) -> str:
    return _(_REASONS[r]) if r in _REASONS else (r or "")


def _note(item: dict[str, Any]) -> str:
    """payload's note, e.g. 'still firing as critical, no longer routed here', in the active language."""
    if item.get("state") == "firing" and item["status"] == "resolved":
        return _("still firing as %(severity)s, no longer routed here", severity=i18n.severity_name(item["severity"]))
    return str(item.get("note") or "")


_HTML = _env.from_string("""<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,'Noto Sans CJK SC',sans-serif;color:#1d2330">
<h2 style="margin:0 0 4px 0">{{ subject }}</h2>
<p style="color:#5a6270;margin:0 0 16px 0">{{ _('as of %(date)s', date=day(p.as_of)) }} &middot; {{ reason }}</p>
{% for title, items in sections %}{% if items %}
<h3 style="margin:16px 0 6px 0">{{ title }} ({{ items|length }})</h3>
<table cellpadding="6" style="border-collapse:collapse;font-size:14px">
<tr style="background:#eef0f4;text-align:left"><th>{{ _('severity') }}</th><th>{{ _('alert') }}</th><th>{{ _('summary') }}</th><th>{{ _('value') }}</th><th>{{ _('threshold') }}</th><th>{{ _('since') }}</th></tr>
{% for i in items %}
<tr style="border-top:1px solid #dde1e8">
<td style="color:{{ colors.get(i.severity, '#333') }};font-weight:600">{{ severity_name(i.severity) }}</td>
<td>{{ where(i) }}</td><td>{{ summary(i) }}{% if i.note %} <em>({{ note(i) }})</em>{% endif %}</td>
<td>{{ num(i.value, i.kind) }}</td><td>{{ num(i.threshold, i.kind) }}</td><td>{{ time(i.starts_at) }}</td>
</tr>
{% endfor %}
</table>
{% endif %}{% endfor %}
<p style="color:#8a919c;font-size:12px;margin-top:20px">{{ _('notification id: %(key)s (a repeated delivery carries the same id)', key=key) }}</p>
</body></html>
""")

_SIMPLE_HTML = _env.from_string("""<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family:system-ui,sans-serif"><h2>{{ subject }}</h2>
<table cellpadding="4">{% for k, v in p.items() %}<tr><th style="text-align:left">{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
<p style="color:#8a919c;font-size:12px">{{ _('notification id: %(key)s', key=key) }}</p></body></html>
""")

#: Words of the mail templates above, for pybabel (it reads Python calls, not the strings inside them).
_TEMPLATE_WORDS = (N_("severity"), N_("alert"), N_("summary"), N_("value"), N_("threshold"), N_("since"))

_COLORS = {"critical": "#b3261e", "warn": "#a15c00", "no_data": "#5a6270"}


def html(m: Message) -> str:
    p = m.payload
    if m.kind == "digest":
        return str(p["html"])
    if m.kind in ("heartbeat", "test"):
        return _SIMPLE_HTML.render(subject=subject(m), p=p, key=m.key, lang=i18n.current())
    sections = [(_("Firing"), [i for i in p["alerts"] if i["status"] == "firing"]),
                (_("Resolved"), [i for i in p["alerts"] if i["status"] == "resolved"])]
    return _HTML.render(subject=subject(m), p=p, reason=_reason(p.get("reason")), sections=sections,
                        colors=_COLORS, where=_where, num=_num, key=m.key, lang=i18n.current(), summary=summary,
                        note=_note, time=_time, day=_day, severity_name=i18n.severity_name)


def slack(m: Message) -> dict[str, Any]:
    """A Slack/Mattermost-compatible body: `text` in mrkdwn."""
    if m.kind == "digest":
        return {"text": f"*{m.payload['subject']}*\n{m.payload['text']}"}
    body = text(m).split("\n", 1)
    return {"text": f"*{body[0]}*\n{body[1] if len(body) > 1 else ''}".rstrip()}
