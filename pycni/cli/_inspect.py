"""``pycni list``, ``show``, ``validate`` and ``version``: look at networks and plugins."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..diagnosis import missing_delegates
from ..errors import AggregateError, PluginNotFoundError, PycniError, ValidateNetworkError
from ._options import (
    add_bin_dir_flag,
    add_conf_dir_flag,
    add_json_flag,
    add_timeout_flag,
    bin_dirs,
    conf_dir,
    load_network,
    make_cni,
    require_bin_dirs,
)
from ._output import EXIT_OK, Output, dumps, one_line

if TYPE_CHECKING:  # pragma: no cover
    from ..config import NetworkConfigList
    from ..runtime import CNIConfig


def register(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    parser = sub.add_parser(
        "list",
        help="list the networks of the configuration directory",
        description="List every network of the configuration directory: the file it comes "
        "from, which file wins when a name is defined twice, and the files that failed to "
        "load (and why).",
        formatter_class=formatter,
    )
    add_conf_dir_flag(parser)
    add_json_flag(parser)
    parser.set_defaults(handler=run_list)

    parser = sub.add_parser(
        "show",
        help="show a network's configuration as pycni loads it",
        description="Show the network NETWORK as add/check/del would load it: its file, the "
        "selected cniVersion, its plugins (and where their binaries are) and its JSON.",
        formatter_class=formatter,
    )
    parser.add_argument("network", metavar="NETWORK", help="network name")
    add_conf_dir_flag(parser)
    add_bin_dir_flag(parser)
    add_json_flag(parser)
    parser.set_defaults(handler=run_show)

    parser = sub.add_parser(
        "validate",
        help="check every plugin of a network supports its cniVersion",
        description="Ask every plugin of NETWORK for its VERSION and check it supports the "
        "network's cniVersion (libcni's ValidateNetworkList). Exit status 1 when one does not.",
        formatter_class=formatter,
    )
    parser.add_argument("network", metavar="NETWORK", help="network name")
    add_conf_dir_flag(parser)
    add_bin_dir_flag(parser)
    add_timeout_flag(parser)
    add_json_flag(parser)
    parser.set_defaults(handler=run_validate)

    parser = sub.add_parser(
        "version",
        help="ask plugins which CNI versions they support",
        description="Run VERSION on each PLUGIN (a plugin type, found in the plugin "
        "directories) and print the spec versions it supports.",
        formatter_class=formatter,
    )
    parser.add_argument("plugins", metavar="PLUGIN", nargs="+", help="plugin type, e.g. bridge")
    add_bin_dir_flag(parser)
    add_timeout_flag(parser)
    add_json_flag(parser)
    parser.set_defaults(handler=run_version)


# --------------------------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------------------------


def run_list(args: argparse.Namespace, out: Output) -> int:
    from ..config import load_conf_list, scan_conf_dir

    directory = conf_dir(args)
    scan = scan_conf_dir(directory)
    load_errors: dict[str, str] = {}
    for name in scan.names:  # what libcni's lookup (and so `pycni add`) makes of each name
        try:
            load_conf_list(directory, name)
        except PycniError as exc:
            load_errors[name] = str(exc)
    networks: list[dict[str, Any]] = [
        {
            "name": net.name,
            "file": net.path,
            "kind": net.kind,
            "cniVersion": net.config.cni_version,
            "plugins": [plugin.type for plugin in net.config.plugins],
            "shadowedBy": net.shadowed_by,
            "loadError": None if net.shadowed else load_errors.get(net.name),
        }
        for net in scan.networks
    ]
    failures = [{"file": f.path, "error": str(f.error)} for f in scan.failures]
    if out.json_mode:
        out.document({"confDir": directory, "networks": networks, "failures": failures})
        return EXIT_OK
    if not networks:
        out.text(f"no network configurations found in {directory}")
    else:
        out.text(f"networks in {directory}:")
        _table(
            out,
            ["NETWORK", "VERSION", "PLUGINS", "FILE"],
            [
                [n["name"], n["cniVersion"] or "-", ",".join(n["plugins"]), _file_note(n)]
                for n in networks
            ],
        )
    if failures:
        out.text()
        out.text("files that failed to load:")
        for failure in failures:
            out.text(f"  {failure['file']}: {one_line(failure['error'])}")
    return EXIT_OK


def _file_note(network: dict[str, Any]) -> str:
    text = str(network["file"])
    if network["shadowedBy"]:
        return f"{text} (unused: {network['shadowedBy']} wins)"
    if network["loadError"]:
        return f"{text} (not loadable: {one_line(network['loadError'])})"
    return text


def _table(out: Output, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths)]
        out.text("  " + "  ".join([*cells, row[-1]]))


# --------------------------------------------------------------------------------------------
# show
# --------------------------------------------------------------------------------------------


def _plugin_path(plugin_type: str, dirs: list[str]) -> str | None:
    from ..invoke import find_in_path

    if not dirs:
        return None
    try:
        return find_in_path(plugin_type, dirs)
    except PycniError:
        return None


def describe(conf: NetworkConfigList, dirs: list[str]) -> dict[str, Any]:
    """What ``show`` prints about a network (also used by ``demo``)."""
    return {
        "network": conf.name,
        "file": conf.path,
        "cniVersion": conf.cni_version,
        "cniVersions": list(conf.cni_versions) if conf.cni_versions is not None else None,
        "disableCheck": conf.disable_check,
        "disableGC": conf.disable_gc,
        "plugins": [
            {
                "type": plugin.type,
                "name": plugin.name or None,
                "capabilities": [k for k, v in plugin.capabilities.items() if v is True],
                "binary": _plugin_path(plugin.type, dirs),
            }
            for plugin in conf.plugins
        ],
        "config": conf.raw,
    }


def run_show(args: argparse.Namespace, out: Output) -> int:
    conf = load_network(args, args.network)
    dirs = bin_dirs(args)
    doc = describe(conf, dirs)
    if out.json_mode:
        out.document(doc)
        return EXIT_OK
    out.text(f"network:    {conf.name}")
    out.text(f"file:       {conf.path or '-'}")
    selected = conf.cni_version or "(none: 0.1.0)"
    if conf.cni_versions is not None:
        selected += f" (selected from cniVersions {', '.join(conf.cni_versions)})"
    out.text(f"cniVersion: {selected}")
    flags = [
        f for f, on in (("disableCheck", conf.disable_check), ("disableGC", conf.disable_gc)) if on
    ]
    if flags:
        out.text(f"flags:      {', '.join(flags)}")
    out.text("plugins:")
    for number, plugin in enumerate(doc["plugins"], 1):
        where = plugin["binary"] or (
            "not found in " + ":".join(dirs) if dirs else "no --bin-dir/CNI_PATH"
        )
        out.text(f"  {number}. {plugin['type']:<12} {where}")
        if plugin["capabilities"]:
            out.text(f"     capabilities: {', '.join(plugin['capabilities'])}")
    out.text("config:")
    out.text(dumps(conf.raw))
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# validate and version
# --------------------------------------------------------------------------------------------


def _version_report(
    cni: CNIConfig, plugin_type: str, timeout: float | None
) -> tuple[dict[str, Any], PycniError | None]:
    """What a plugin answers to VERSION, as report data, and the error when it did not answer."""
    entry: dict[str, Any] = {"plugin": plugin_type, "binary": _plugin_path(plugin_type, cni.path)}
    try:
        info = cni.get_version_info(plugin_type, timeout=timeout)
    except PycniError as exc:
        entry["error"] = str(exc)
        return entry, exc
    entry["cniVersion"] = info.cni_version
    entry["supportedVersions"] = list(info.supported_versions)
    return entry, None


def run_validate(args: argparse.Namespace, out: Output) -> int:
    conf = load_network(args, args.network)
    cni = make_cni(args)
    require_bin_dirs(cni)
    expected = conf.cni_version or "0.1.0"
    plugins = []
    missing: list[PycniError] = []
    for plugin in conf.plugins:
        entry, _error = _version_report(cni, plugin.type, args.timeout)
        if "supportedVersions" in entry:
            entry["supports"] = expected in entry["supportedVersions"]
        delegates = missing_delegates(plugin, cni)
        if delegates:
            entry["missingDelegates"] = delegates
            missing.extend(
                PluginNotFoundError(problem, plugin_type=plugin.type, paths=cni.path)
                for problem in delegates
            )
        plugins.append(entry)
    error: PycniError | None = None
    capabilities: list[str] = []
    try:
        capabilities = cni.validate_network_list(conf, timeout=args.timeout)
    except ValidateNetworkError as exc:
        error = exc
    if error is None and missing:
        error = missing[0] if len(missing) == 1 else AggregateError(missing)
    doc = {
        "network": conf.name,
        "cniVersion": expected,
        "valid": error is None,
        "plugins": plugins,
        "capabilities": capabilities,
    }
    if out.json_mode:
        out.document(doc)
    else:
        out.text(f"network {conf.name} (cniVersion {expected}):")
        for entry in plugins:
            if "error" in entry:
                verdict = "error: " + one_line(entry["error"])
            elif entry["supports"]:
                verdict = "ok"
            else:
                verdict = f"does not support {expected}"
            versions = ", ".join(entry.get("supportedVersions", [])) or "-"
            out.text(f"  {entry['plugin']:<12} {verdict}  (supports {versions})")
            for problem in entry.get("missingDelegates", []):
                out.text(f"  {'':<12} error: {one_line(problem)}")
        if capabilities:
            out.text(f"capabilities: {', '.join(capabilities)}")
        out.text("valid" if error is None else "invalid")
    if error is not None:
        raise error
    return EXIT_OK


def run_version(args: argparse.Namespace, out: Output) -> int:
    cni = make_cni(args)
    require_bin_dirs(cni)
    reports = [_version_report(cni, plugin, args.timeout) for plugin in args.plugins]
    entries = [entry for entry, _ in reports]
    failed = [error for _, error in reports if error is not None]
    if out.json_mode:
        out.document(entries)
    else:
        for entry in entries:
            if "error" in entry:
                continue
            versions = ", ".join(entry["supportedVersions"])
            out.text(f"{entry['plugin']}: {versions} ({entry['binary']})")
    if len(failed) == 1:
        raise failed[0]
    if failed:
        raise AggregateError(failed)
    return EXIT_OK
