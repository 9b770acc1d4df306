"""Rich display for notebooks and IPython: compact HTML tables and readable multi-line text.

Jupyter shows an object through its ``_repr_html_`` method and IPython's console through
``_repr_pretty_``. Results, network configurations and pycni's errors delegate both to this module,
so the rendering rules live in one place and nothing here is imported until something is displayed.

Other modules (the sandbox's aggregated result, for instance) build their displays from the same
pieces: :func:`html_table`, :func:`html_panel`, :func:`to_html` / :func:`to_text` (which render any
of the objects above, ``None`` and exceptions), and :func:`aggregate_html` /
:func:`aggregate_text` for "a summary table, then one section per part". :func:`pretty` is the
whole body of a ``_repr_pretty_`` method.

Everything is escaped: configuration files and plugin output are untrusted text, and a
``<script>`` in a network name must show as text in a notebook, never run.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import _json
from .errors import AggregateError, ChainError

__all__ = [
    "RawHTML",
    "aggregate_html",
    "aggregate_text",
    "config_html",
    "config_list_html",
    "config_list_text",
    "config_text",
    "error_html",
    "error_text",
    "html_panel",
    "html_table",
    "pretty",
    "result_html",
    "result_text",
    "to_html",
    "to_text",
]

#: Longest rendering of one configuration value before it is cut with an ellipsis.
MAX_VALUE = 120
#: Longest stderr tail shown for a plugin error (the error object keeps all of it).
MAX_STDERR = 2000

_TABLE_STYLE = "border-collapse:collapse;margin:0.2em 0 0.6em 0;font-size:0.92em"
_CELL_STYLE = "padding:0.15em 0.6em;text-align:left;vertical-align:top"
_CAPTION_STYLE = "caption-side:top;text-align:left;font-weight:600;padding:0.1em 0"


class RawHTML(str):
    """Text that is already HTML: :func:`html_table` and :func:`html_panel` insert it unescaped."""

    __slots__ = ()


def _escape(value: object) -> str:
    if isinstance(value, RawHTML):
        return str(value)
    return html.escape(str(value), quote=True)


def _cut(text: str, limit: int = MAX_VALUE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _compact(value: Any) -> str:
    """A configuration value in one short line (strings bare, everything else as JSON)."""
    if isinstance(value, str):
        return _cut(value)
    try:
        text = _json.dumps(value, separators=(", ", ": "))
    except (TypeError, ValueError):
        text = repr(value)
    return _cut(text)


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


def html_table(
    headers: Sequence[str] | None,
    rows: Iterable[Sequence[object]],
    *,
    caption: str | None = None,
) -> str:
    """A compact HTML table; cells are escaped unless they are :class:`RawHTML`.

    ``headers=None`` gives a key/value table without a header row.
    """
    parts = [f'<table class="pycni" style="{_TABLE_STYLE}">']
    if caption:
        parts.append(f'<caption style="{_CAPTION_STYLE}">{_escape(caption)}</caption>')
    if headers:
        cells = "".join(f'<th style="{_CELL_STYLE}">{_escape(h)}</th>' for h in headers)
        parts.append(f"<thead><tr>{cells}</tr></thead>")
    parts.append("<tbody>")
    for row in rows:
        cells = "".join(f'<td style="{_CELL_STYLE}">{_escape(c)}</td>' for c in row)
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def html_panel(title: str, *body: str, subtitle: str = "") -> str:
    """A titled block holding already-rendered HTML parts (tables, nested panels)."""
    head = f"<strong>{_escape(title)}</strong>"
    if subtitle:
        head += f' <span style="opacity:0.75">{_escape(subtitle)}</span>'
    inner = "".join(str(part) for part in body)
    return f'<div class="pycni-display" style="margin:0.2em 0"><div>{head}</div>{inner}</div>'


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _aligned(rows: Sequence[tuple[str, Sequence[str]]], prefix: str = "  ") -> list[str]:
    """``label: first value`` with further values aligned under the first."""
    width = max((len(label) for label, _ in rows), default=0) + 2
    lines = []
    for label, values in rows:
        head = f"{label}:".ljust(width)
        for i, value in enumerate(values):
            lines.append(prefix + (head if i == 0 else " " * width) + value)
    return lines


def to_html(obj: object) -> str:
    """HTML for a result, a configuration, an error, ``None`` or anything with ``_repr_html_``."""
    from .config import NetworkConfig, NetworkConfigList
    from .types.base import Result

    if obj is None:
        return "<em>none</em>"
    if isinstance(obj, Result):
        return result_html(obj)
    if isinstance(obj, NetworkConfigList):
        return config_list_html(obj)
    if isinstance(obj, NetworkConfig):
        return config_html(obj)
    if isinstance(obj, BaseException):
        return error_html(obj)
    method = getattr(obj, "_repr_html_", None)
    if callable(method):
        rendered = method()
        if isinstance(rendered, str):
            return rendered
    return f"<code>{_escape(repr(obj))}</code>"


def to_text(obj: object) -> str:
    """Readable multi-line text for the same objects as :func:`to_html` (else ``repr``)."""
    from .config import NetworkConfig, NetworkConfigList
    from .types.base import Result

    if obj is None:
        return "none"
    if isinstance(obj, Result):
        return result_text(obj)
    if isinstance(obj, NetworkConfigList):
        return config_list_text(obj)
    if isinstance(obj, NetworkConfig):
        return config_text(obj)
    if isinstance(obj, BaseException):
        return error_text(obj)
    return repr(obj)


def pretty(obj: object, printer: Any, cycle: bool) -> None:
    """The body of a ``_repr_pretty_(self, p, cycle)`` method: write :func:`to_text` to ``p``."""
    if cycle:
        printer.text(f"{type(obj).__name__}(...)")
        return
    lines = to_text(obj).split("\n")
    for i, line in enumerate(lines):
        if i:
            printer.break_()
        printer.text(line)


def aggregate_html(
    title: str,
    parts: Mapping[str, object] | Iterable[tuple[str, object]],
    *,
    subtitle: str = "",
    summary_headers: Sequence[str] | None = None,
    summary_rows: Iterable[Sequence[object]] = (),
) -> str:
    """A panel with an optional summary table, then one section per ``(label, object)`` part.

    Each part is rendered with :func:`to_html`: a result, an error, a configuration, ``None``
    (nothing attached) or any object with ``_repr_html_``.
    """
    items = list(parts.items()) if isinstance(parts, Mapping) else list(parts)
    body = []
    rows = list(summary_rows)
    if summary_headers is not None or rows:
        body.append(html_table(summary_headers, rows))
    for label, value in items:
        body.append(
            '<details open style="margin-left:0.5em">'
            f"<summary>{_escape(label)}</summary>{to_html(value)}</details>"
        )
    return html_panel(title, *body, subtitle=subtitle)


def aggregate_text(
    title: str,
    parts: Mapping[str, object] | Iterable[tuple[str, object]],
    *,
    subtitle: str = "",
    summary_headers: Sequence[str] | None = None,
    summary_rows: Iterable[Sequence[object]] = (),
) -> str:
    """The text twin of :func:`aggregate_html`."""
    items = list(parts.items()) if isinstance(parts, Mapping) else list(parts)
    lines = [f"{title} ({subtitle})" if subtitle else title]
    rows = [[str(c) for c in row] for row in summary_rows]
    if rows:
        table = [list(summary_headers), *rows] if summary_headers else rows
        widths = [max(len(r[i]) for r in table if i < len(r)) for i in range(len(table[0]))]
        for row in table:
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    for label, value in items:
        lines.append(f"  {label}:")
        lines.append(_indent(to_text(value), "    "))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def _route_options(route: Any) -> str:
    opts = []
    for name in ("mtu", "advmss", "priority"):
        value = getattr(route, name, 0)
        if value:
            opts.append(f"{name}={value}")
    for name in ("table", "scope"):
        value = getattr(route, name, None)
        if value is not None:
            opts.append(f"{name}={value}")
    return " ".join(opts)


def _interface_details(iface: Any) -> list[tuple[str, str]]:
    out = []
    for attr, label in (
        ("mac", "mac"),
        ("mtu", "mtu"),
        ("sandbox", "sandbox"),
        ("socket_path", "socketPath"),
        ("pci_id", "pciID"),
    ):
        value = getattr(iface, attr, "")
        if value:
            out.append((label, str(value)))
    return out


def _ip_rows(result: Any) -> list[tuple[str, str, str, str]]:
    """(where for tables, where for text, address, gateway) per IP of any family."""
    rows = []
    names = [i.name for i in result.interfaces]
    if hasattr(result, "ip4"):  # 0.1/0.2: ip4 and ip6, no interface index
        for family, conf in (("ip4", result.ip4), ("ip6", result.ip6)):
            if conf is not None:
                gateway = "" if conf.gateway is None else str(conf.gateway)
                rows.append((family, f"({family})", _cidr(conf.ip), gateway))
        return rows
    for conf in result.ips:
        index = conf.interface
        if index is None:
            where, said = "", ""
        elif 0 <= index < len(names):
            where, said = f"{index} ({names[index]})", f"on {names[index]}"
        else:
            where, said = str(index), f"on interface {index}"
        gateway = "" if conf.gateway is None else str(conf.gateway)
        rows.append((where, said, _cidr(conf.address), gateway))
    return rows


def _cidr(value: Any) -> str:
    return f"{value.ip}/{value.network.prefixlen}"


def _dns_rows(dns: Any) -> list[tuple[str, str]]:
    rows = []
    if dns.nameservers:
        rows.append(("nameservers", " ".join(dns.nameservers)))
    if dns.domain:
        rows.append(("domain", dns.domain))
    if dns.search:
        rows.append(("search", " ".join(dns.search)))
    if dns.options:
        rows.append(("options", " ".join(dns.options)))
    return rows


def result_html(result: Any) -> str:
    """A result as a titled panel of small tables: interfaces, IPs, routes, DNS."""
    body = []
    if result.interfaces:
        body.append(
            html_table(
                ["#", "interface", "details"],
                (
                    (i, iface.name, " ".join(f"{k}={v}" for k, v in _interface_details(iface)))
                    for i, iface in enumerate(result.interfaces)
                ),
                caption="interfaces",
            )
        )
    ip_rows = _ip_rows(result)
    if ip_rows:
        first = "family" if hasattr(result, "ip4") else "interface"
        body.append(
            html_table(
                [first, "address", "gateway"],
                ((where, address, gw) for where, _, address, gw in ip_rows),
                caption="ips",
            )
        )
    if result.routes:
        body.append(
            html_table(
                ["dst", "gw", "options"],
                (
                    (_cidr(r.dst), "" if r.gw is None else str(r.gw), _route_options(r))
                    for r in result.routes
                ),
                caption="routes",
            )
        )
    dns_rows = _dns_rows(result.dns)
    if dns_rows:
        body.append(html_table(None, dns_rows, caption="dns"))
    if not body:
        body.append("<em>empty result</em>")
    return html_panel(type(result).__name__, *body, subtitle=f"cniVersion {result.cni_version}")


def result_text(result: Any) -> str:
    """A result in a few aligned lines (``str(result)`` stays libcni's indented JSON)."""
    rows: list[tuple[str, list[str]]] = []
    if result.interfaces:
        rows.append(
            (
                "interfaces",
                [
                    " ".join(
                        [f"[{i}] {iface.name}"] + [f"{k}={v}" for k, v in _interface_details(iface)]
                    )
                    for i, iface in enumerate(result.interfaces)
                ],
            )
        )
    ip_rows = _ip_rows(result)
    if ip_rows:
        values = []
        for _, said, address, gateway in ip_rows:
            values.append(
                " ".join(p for p in (address, f"gw {gateway}" if gateway else "", said) if p)
            )
        rows.append(("ips", values))
    if result.routes:
        rows.append(
            (
                "routes",
                [
                    " ".join(
                        p
                        for p in (
                            _cidr(r.dst),
                            f"via {r.gw}" if r.gw is not None else "",
                            _route_options(r),
                        )
                        if p
                    )
                    for r in result.routes
                ],
            )
        )
    dns_rows = _dns_rows(result.dns)
    if dns_rows:
        rows.append(("dns", [f"{k}: {v}" for k, v in dns_rows]))
    head = f"{type(result).__name__} (cniVersion {result.cni_version})"
    if not rows:
        return head + "\n  (empty result)"
    return "\n".join([head, *_aligned(rows)])


# --------------------------------------------------------------------------------------------
# Configurations
# --------------------------------------------------------------------------------------------

_PLUGIN_SHOWN = ("type", "name", "cniVersion", "capabilities", "ipam")


def _plugin_summary(plugin: Any) -> tuple[str, str, str]:
    """(capabilities, ipam, other keys) of one plugin configuration, each one short line."""
    caps = " ".join(k for k, v in plugin.capabilities.items() if v)
    ipam = str(plugin.ipam.get("type", "")) if plugin.ipam else ""
    other = ", ".join(f"{k}={_compact(v)}" for k, v in plugin.raw.items() if k not in _PLUGIN_SHOWN)
    return caps, ipam, _cut(other)


def _list_facts(conf: Any) -> list[tuple[str, str]]:
    facts = [("cniVersion", conf.cni_version or '"" (0.1.0)')]
    if conf.cni_versions is not None:
        facts.append(("cniVersions", ", ".join(conf.cni_versions) or "[]"))
    flags = [
        name
        for name, on in (
            ("disableCheck", conf.disable_check),
            ("disableGC", conf.disable_gc),
            ("loadOnlyInlinedPlugins", conf.load_only_inlined_plugins),
        )
        if on
    ]
    if flags:
        facts.append(("flags", ", ".join(flags)))
    if conf.path:
        facts.append(("file", conf.path))
    return facts


def config_list_html(conf: Any) -> str:
    """A network: its facts, then its plugin chain as a table."""
    rows = []
    for i, plugin in enumerate(conf.plugins):
        caps, ipam, other = _plugin_summary(plugin)
        rows.append((i, plugin.type, caps, ipam, other))
    chain = (
        html_table(["#", "type", "capabilities", "ipam", "other keys"], rows, caption="plugins")
        if rows
        else "<em>no plugins</em>"
    )
    return html_panel(
        f"NetworkConfigList {conf.name!r}",
        html_table(None, _list_facts(conf)),
        chain,
    )


def config_list_text(conf: Any) -> str:
    """A network in a few lines: facts, then one line per plugin."""
    rows: list[tuple[str, list[str]]] = [(k, [v]) for k, v in _list_facts(conf)]
    plugins = []
    for i, plugin in enumerate(conf.plugins):
        caps, ipam, other = _plugin_summary(plugin)
        parts = [f"[{i}] {plugin.type}"]
        if caps:
            parts.append(f"capabilities={caps}")
        if ipam:
            parts.append(f"ipam={ipam}")
        if other:
            parts.append(other)
        plugins.append("  ".join(parts))
    rows.append(("plugins", plugins or ["(none)"]))
    return "\n".join([f"NetworkConfigList {conf.name!r}", *_aligned(rows)])


def config_html(conf: Any) -> str:
    """One plugin configuration as a key/value table of its JSON object."""
    rows = [(key, _compact(value)) for key, value in conf.raw.items()]
    if conf.path:
        rows.append(("(file)", conf.path))
    return html_panel(f"NetworkConfig type={conf.type!r}", html_table(None, rows))


def config_text(conf: Any) -> str:
    """One plugin configuration, one key per line."""
    rows: list[tuple[str, list[str]]] = [(k, [_compact(v)]) for k, v in conf.raw.items()]
    if conf.path:
        rows.append(("(file)", [conf.path]))
    return "\n".join([f"NetworkConfig type={conf.type!r}", *_aligned(rows)])


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

# The facts errors carry, in the order a person reads them (see pycni.errors).
_ERROR_FACTS = (
    "code",
    "msg",
    "details",
    "network",
    "plugin_type",
    "plugin_name",
    "index",
    "verb",
    "plugin_path",
    "paths",
    "exit_status",
    "signal",
    "timeout",
    "elapsed",
    "path",
    "field",
    "dir",
    "name",
    "config_version",
    "supported",
    "candidates",
    "plugins",
    "lock_path",
    "version",
)


def _fact_text(name: str, value: Any, err: BaseException) -> str:
    if name == "code":
        label = getattr(err, "well_known", None)
        return f"{value} ({label.name})" if label is not None else str(value)
    if name in {"elapsed", "timeout"}:
        return f"{value:g}s" if isinstance(value, (int, float)) else str(value)
    if name == "plugins" and isinstance(value, list):
        return "; ".join(
            f"{kind}: {' '.join(versions)}" if isinstance(versions, (list, tuple)) else str(kind)
            for kind, versions in value
        )
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value) or "[]"
    return str(value)


def _error_facts(err: BaseException) -> list[tuple[str, str]]:
    facts = []
    for name in _ERROR_FACTS:
        if isinstance(err, ChainError) and name in ("code", "msg", "details"):
            continue  # proxies of the cause, shown with it
        try:
            value = getattr(err, name, None)
        except Exception:  # a property of a foreign exception; display must never fail
            continue
        if value is None or value == "" or callable(value):
            continue
        facts.append((name, _fact_text(name, value, err)))
    return facts


def _nested(err: BaseException) -> list[tuple[str, BaseException]]:
    """The errors shown inside this one: the aggregated ones, or the cause."""
    errors = getattr(err, "errors", None)
    if isinstance(err, AggregateError) and isinstance(errors, list):
        return [(f"error {i + 1} of {len(errors)}", e) for i, e in enumerate(errors)]
    cause = err.__cause__
    return [("caused by", cause)] if isinstance(cause, BaseException) else []


def _stderr(err: BaseException) -> str:
    tail = getattr(err, "stderr_tail", "")
    if not isinstance(tail, str) or not tail:
        return ""
    return tail if len(tail) <= MAX_STDERR else "…" + tail[-(MAX_STDERR - 1) :]


def error_html(err: BaseException, _depth: int = 0) -> str:
    """An error: its class, its message, its facts, plugin stderr and nested errors."""
    body = [
        f'<div style="margin:0.2em 0"><code style="white-space:pre-wrap">'
        f"{_escape(str(err))}</code></div>"
    ]
    facts = _error_facts(err)
    if facts:
        body.append(html_table(None, facts))
    stderr = _stderr(err)
    if stderr:
        body.append(
            '<details><summary>plugin stderr</summary><pre style="white-space:pre-wrap">'
            f"{_escape(stderr)}</pre></details>"
        )
    if _depth < 8:
        for label, inner in _nested(err):
            body.append(
                f'<div style="margin-left:1em"><em>{_escape(label)}</em>'
                f"{error_html(inner, _depth + 1)}</div>"
            )
    return html_panel(type(err).__name__, *body)


def error_text(err: BaseException, _depth: int = 0) -> str:
    """An error as ``Class: message`` followed by its facts and nested errors, indented."""
    lines = [f"{type(err).__name__}: {err}"]
    facts = _error_facts(err)
    if facts:
        lines.extend(_aligned([(k, [v]) for k, v in facts]))
    stderr = _stderr(err)
    if stderr:
        lines.append("  plugin stderr:")
        lines.append(_indent(stderr, "    | "))
    if _depth < 8:
        for label, inner in _nested(err):
            lines.append(f"  {label}:")
            lines.append(_indent(error_text(inner, _depth + 1), "    "))
    return "\n".join(lines)
