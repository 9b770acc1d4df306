"""Rich display in notebooks: ``_repr_html_`` tables and ``_repr_pretty_`` text (issue 12)."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

import pycni
from pycni import _display
from pycni.errors import (
    ChainError,
    CNIError,
    ErrorCode,
    GCError,
    IncompatibleVersionError,
    NegotiationError,
    PluginError,
    PluginNotFoundError,
)
from pycni.types import (
    DNS,
    Interface100,
    IPConfig020,
    IPConfig040,
    IPConfig100,
    Result020,
    Result040,
    Result100,
    Route,
)


class Printer:
    """The part of IPython's pretty printer that ``_repr_pretty_`` uses."""

    def __init__(self) -> None:
        self.out: list[str] = []

    def text(self, value: str) -> None:
        self.out.append(value)

    def break_(self) -> None:
        self.out.append("\n")

    def value(self) -> str:
        return "".join(self.out)


def pretty(obj: Any) -> str:
    printer = Printer()
    obj._repr_pretty_(printer, False)
    return printer.value()


class Cells(HTMLParser):
    """Collects the text of every table cell and the tags seen, to check the HTML is a table."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.tags: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)
        if tag in ("td", "th"):
            self._in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells[-1] += data


def parse(markup: str) -> Cells:
    parser = Cells()
    parser.feed(markup)
    parser.close()
    return parser


RESULT = Result100(
    interfaces=[Interface100(name="eth0", mac="aa:bb:cc:dd:ee:ff", sandbox="/run/netns/c1")],
    ips=[IPConfig100(interface=0, address="10.1.2.3/24", gateway="10.1.2.1")],
    routes=[Route(dst="0.0.0.0/0", gw="10.1.2.1"), Route(dst="10.9.0.0/16", mtu=1400, table=100)],
    dns=DNS(nameservers=["10.1.2.53"], search=["svc.local"]),
)


def test_result_html_is_a_table_of_interfaces_ips_routes_and_dns() -> None:
    page = parse(RESULT._repr_html_())
    assert "table" in page.tags
    assert "eth0" in page.cells
    assert "10.1.2.3/24" in page.cells
    assert "0 (eth0)" in page.cells  # the interface index is resolved to its name
    assert "mtu=1400 table=100" in page.cells
    assert "10.1.2.53" in page.cells
    assert "svc.local" in page.cells


def test_result_text_is_aligned_lines() -> None:
    assert pretty(RESULT) == (
        "Result100 (cniVersion 1.1.0)\n"
        "  interfaces: [0] eth0 mac=aa:bb:cc:dd:ee:ff sandbox=/run/netns/c1\n"
        "  ips:        10.1.2.3/24 gw 10.1.2.1 on eth0\n"
        "  routes:     0.0.0.0/0 via 10.1.2.1\n"
        "              10.9.0.0/16 mtu=1400 table=100\n"
        "  dns:        nameservers: 10.1.2.53\n"
        "              search: svc.local"
    )
    # str() and repr() keep their meanings: libcni's JSON and the compact repr.
    assert json.loads(str(RESULT))["ips"][0]["address"] == "10.1.2.3/24"
    assert repr(RESULT).startswith("Result100(1.1.0, interfaces=[eth0]")


def test_every_result_family_renders() -> None:
    old = Result020(
        ip4=IPConfig020(ip="10.1.2.3/24", gateway="10.1.2.1", routes=[Route(dst="0.0.0.0/0")])
    )
    assert "10.1.2.3/24 gw 10.1.2.1 (ip4)" in pretty(old)
    assert "ip4" in parse(old._repr_html_()).cells
    mid = Result040(ips=[IPConfig040(version="4", address="10.1.2.3/24", interface=3)])
    assert "10.1.2.3/24 on interface 3" in pretty(mid)
    empty = Result100()
    assert pretty(empty) == "Result100 (cniVersion 1.1.0)\n  (empty result)"
    assert "empty result" in empty._repr_html_()


def test_config_list_shows_facts_and_the_plugin_chain() -> None:
    conf = pycni.NetworkConfigList.from_bytes(
        json.dumps(
            {
                "cniVersion": "1.0.0",
                "cniVersions": ["0.4.0", "1.0.0"],
                "name": "demo",
                "disableGC": True,
                "plugins": [
                    {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}},
                    {"type": "portmap", "capabilities": {"portMappings": True, "x": False}},
                ],
            }
        ),
        path="/etc/cni/net.d/10-demo.conflist",
    )
    text = pretty(conf)
    assert text.splitlines() == [
        "NetworkConfigList 'demo'",
        "  cniVersion:  1.0.0",
        "  cniVersions: 0.4.0, 1.0.0",
        "  flags:       disableGC",
        "  file:        /etc/cni/net.d/10-demo.conflist",
        "  plugins:     [0] bridge  ipam=host-local  bridge=cni0",
        "               [1] portmap  capabilities=portMappings",
    ]
    cells = parse(conf._repr_html_()).cells
    assert cells[cells.index("0") :][:5] == ["0", "bridge", "", "host-local", "bridge=cni0"]
    assert "portMappings" in cells


def test_plugin_config_is_a_key_value_table() -> None:
    plugin = pycni.NetworkConfig.from_bytes(b'{"type": "bridge", "mtu": 1400, "ipMasq": true}')
    assert pretty(plugin).splitlines() == [
        "NetworkConfig type='bridge'",
        "  type:   bridge",
        "  mtu:    1400",
        "  ipMasq: true",
    ]
    cells = parse(plugin._repr_html_()).cells
    assert cells == ["type", "bridge", "mtu", "1400", "ipMasq", "true"]


def test_long_values_are_cut() -> None:
    plugin = pycni.NetworkConfig.from_bytes(json.dumps({"type": "x", "blob": "a" * 500}))
    line = pretty(plugin).splitlines()[-1]
    assert line.endswith("…")
    assert len(line) < 200


def test_untrusted_text_is_escaped() -> None:
    name = "<script>alert(1)</script>"
    conf = pycni.NetworkConfigList.from_bytes(
        json.dumps({"cniVersion": "1.0.0", "name": name, "plugins": [{"type": "a&b", "k": "<i>"}]})
    )
    markup = conf._repr_html_()
    assert "<script>" not in markup
    assert "<i>" not in markup
    assert html.escape(name) in markup
    assert "a&amp;b" in markup
    err = PluginError(1, "<b>bad</b>", plugin_type="x", stderr_tail="<img src=x onerror=y>")
    markup = err._repr_html_()
    assert "<b>" not in markup
    assert "<img" not in markup
    assert "&lt;img src=x onerror=y&gt;" in markup


def test_chain_error_shows_facts_and_the_cause() -> None:
    inner = PluginNotFoundError(
        'failed to find plugin "bridge" in path [/opt/cni/bin]',
        plugin_type="bridge",
        paths=["/opt/cni/bin"],
    )
    err = ChainError(inner, plugin_type="bridge", verb="add", index=0, network="demo")
    text = pretty(err)
    assert text.splitlines() == [
        'ChainError: plugin type="bridge" failed (add): failed to find plugin "bridge" in path '
        "[/opt/cni/bin]",
        "  network:     demo",
        "  plugin_type: bridge",
        "  index:       0",
        "  verb:        add",
        "  caused by:",
        '    PluginNotFoundError: failed to find plugin "bridge" in path [/opt/cni/bin]',
        "      plugin_type: bridge",
        "      paths:       /opt/cni/bin",
    ]
    markup = err._repr_html_()
    assert "caused by" in markup
    assert markup.count("<strong>") == 2  # the error and its cause, each a titled panel


def test_plugin_error_names_the_code_and_shows_stderr() -> None:
    err = PluginError(
        ErrorCode.INCOMPATIBLE_CNI_VERSION,
        "incompatible CNI versions",
        'config is "1.1.0", plugin supports ["0.4.0"]',
        plugin_type="bridge",
        verb="ADD",
        exit_status=1,
        stderr_tail="line one\nline two",
        elapsed=0.25,
    )
    text = pretty(err)
    assert "  code:        1 (INCOMPATIBLE_CNI_VERSION)" in text
    assert "  exit_status: 1" in text
    assert "  elapsed:     0.25s" in text
    assert "  plugin stderr:\n    | line one\n    | line two" in text
    cells = parse(err._repr_html_()).cells
    assert "1 (INCOMPATIBLE_CNI_VERSION)" in cells
    assert "plugin stderr" in err._repr_html_()
    assert "  code: 4242\n" in pretty(CNIError(4242, "plugin specific"))


def test_aggregate_errors_list_every_error() -> None:
    err = GCError([CNIError(11, "busy"), ValueError("odd")])
    text = pretty(err)
    assert "error 1 of 2:\n    CNIError: busy" in text
    assert "error 2 of 2:\n    ValueError: odd" in text
    negotiation = NegotiationError("demo", ["1.1.0"], [("bridge", ["0.4.0", "1.0.0"])])
    assert "plugins:" in pretty(negotiation)
    assert "bridge: 0.4.0 1.0.0" in pretty(negotiation)
    assert IncompatibleVersionError("1.1.0", ["0.4.0"], "bridge")._repr_html_().count("0.4.0")


def test_a_long_stderr_tail_is_shortened_for_display_only() -> None:
    err = PluginError(0, "failed", stderr_tail="x" * 10_000 + "END")
    shown = pretty(err)
    assert "END" in shown
    assert len(shown) < 3000
    assert len(err.stderr_tail) == 10_003


def test_config_errors_show_file_and_field() -> None:
    with pytest.raises(pycni.ConfigError) as info:
        pycni.NetworkConfigList.from_bytes(b'{"plugins": []}', path="/x/10-a.conflist")
    text = pretty(info.value)
    assert "path:  /x/10-a.conflist" in text
    assert "field: name" in text


def test_aggregate_panels_for_composite_results() -> None:
    parts = {"demo (eth0)": RESULT, "broken (eth1)": CNIError(11, "try again"), "lo": None}
    markup = _display.aggregate_html(
        "PodNetworks",
        parts,
        subtitle="sandbox c1",
        summary_headers=["interface", "addresses"],
        summary_rows=[("eth0", "10.1.2.3/24")],
    )
    cells = parse(markup).cells
    assert cells[:4] == ["interface", "addresses", "eth0", "10.1.2.3/24"]
    assert "try again" in markup
    assert "<em>none</em>" in markup
    text = _display.aggregate_text(
        "PodNetworks",
        list(parts.items()),
        subtitle="sandbox c1",
        summary_headers=["interface", "addresses"],
        summary_rows=[("eth0", "10.1.2.3/24")],
    )
    lines = text.splitlines()
    assert lines[:3] == [
        "PodNetworks (sandbox c1)",
        "  interface  addresses",
        "  eth0       10.1.2.3/24",
    ]
    assert "  demo (eth0):" in lines
    assert "    Result100 (cniVersion 1.1.0)" in lines
    assert "    CNIError: try again" in lines
    assert "  lo:" in lines and "    none" in lines


def test_to_html_uses_an_objects_own_repr_html_and_escapes_the_rest() -> None:
    class Rich:
        def _repr_html_(self) -> str:
            return "<b>rich</b>"

    assert _display.to_html(Rich()) == "<b>rich</b>"
    assert _display.to_html("<x>") == "<code>&#x27;&lt;x&gt;&#x27;</code>"
    assert _display.to_text(42) == "42"
    raw = _display.html_table(["a"], [[_display.RawHTML("<i>ok</i>")], ["<i>no</i>"]])
    assert "<i>ok</i>" in raw
    assert "&lt;i&gt;no&lt;/i&gt;" in raw


def test_cycles_are_cut_short() -> None:
    printer = Printer()
    RESULT._repr_pretty_(printer, True)
    assert printer.value() == "Result100(...)"


def test_ipython_uses_the_readable_text() -> None:
    lib = pytest.importorskip("IPython.lib.pretty", reason="IPython is not installed")
    text = lib.pretty(RESULT)
    assert text.startswith("Result100 (cniVersion 1.1.0)\n  interfaces: [0] eth0")
    assert re.search(r"^  ips: +10\.1\.2\.3/24", text, re.M)
