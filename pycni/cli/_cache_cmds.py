"""``pycni cache ls|show|rm``: the result cache (``<cache-dir>/results``, libcni's format).

An entry is addressed like the attachment verbs address it: ``NETWORK`` and either ``NETNS``
(cnitool's container ID is derived from it) or ``--container-id``, plus ``--ifname``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
from typing import Any

from ..errors import CacheError, PycniError
from ._options import (
    absolute_netns,
    add_cache_dir_flag,
    add_identity_flags,
    add_json_flag,
    cache_dir,
    container_id,
    ifname,
)
from ._output import EXIT_OK, Output, dumps


def register(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    group = sub.add_parser(
        "cache",
        help="list, show or remove cached ADD results",
        description="Inspect the result cache that ADD writes and CHECK/DEL/GC read "
        "(<cache-dir>/results, libcni's format).",
        formatter_class=formatter,
    )
    group.set_defaults(handler=None, group_parser=group)
    actions = group.add_subparsers(dest="cache_command", metavar="ACTION", title="actions")

    parser = actions.add_parser(
        "ls",
        help="list cached attachments",
        description="List the attachments recorded in the cache, in file name order.",
        formatter_class=formatter,
    )
    parser.add_argument("--network", metavar="NAME", help="only this network's attachments")
    parser.add_argument("--container-id", metavar="ID", help="only this container's attachments")
    add_cache_dir_flag(parser)
    add_json_flag(parser)
    parser.set_defaults(handler=run_ls)

    for name, summary, handler in (
        ("show", "show one cached entry (result, config, arguments)", run_show),
        ("rm", "remove one cached entry (no plugin is called)", run_rm),
    ):
        parser = actions.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ". The entry is named by NETWORK "
            "and NETNS (cnitool's container ID) or --container-id, and --ifname.",
            formatter_class=formatter,
        )
        parser.add_argument("network", metavar="NETWORK", help="network name")
        parser.add_argument(
            "netns", metavar="NETNS", nargs="?", help="netns path the entry was added with"
        )
        add_identity_flags(parser)
        add_cache_dir_flag(parser)
        add_json_flag(parser)
        parser.set_defaults(handler=handler)


def _directory(args: argparse.Namespace) -> str:
    from .. import cache

    return cache.resolve_cache_dir(cache_dir(args))


def run_ls(args: argparse.Namespace, out: Output) -> int:
    from .. import cache

    directory = _directory(args)
    found = cache.list_attachments(directory, args.container_id or "")
    if args.network:
        found = [a for a in found if a.network == args.network]
    rows: list[dict[str, Any]] = [
        {
            "network": a.network,
            "containerId": a.container_id,
            "ifname": a.ifname,
            "netns": a.netns,
            "cniArgs": [list(pair) for pair in a.cni_args],
            "capabilityArgs": dict(a.capability_args),
            "file": os.path.join(
                directory, cache.RESULTS_DIR, f"{a.network}-{a.container_id}-{a.ifname}"
            ),
        }
        for a in found
    ]
    if out.json_mode:
        out.document({"cacheDir": directory, "attachments": rows})
        return EXIT_OK
    if not rows:
        out.text(f"no cached attachments in {directory}")
        return EXIT_OK
    header = ["NETWORK", "CONTAINER", "IFNAME", "NETNS"]
    table: list[list[str]] = [header] + [
        [r["network"], r["containerId"], r["ifname"], r["netns"] or "-"] for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        out.text("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return EXIT_OK


def _entry(args: argparse.Namespace) -> tuple[str, str, str]:
    """``(cache_dir, entry_name, path)`` of the entry the arguments address."""
    from .. import cache

    netns = absolute_netns(args.netns) if args.netns else None
    name = cache.entry_name(args.network, container_id(args, netns), ifname(args))
    directory = _directory(args)
    return directory, name, os.path.join(directory, cache.RESULTS_DIR, name)


def _missing(args: argparse.Namespace, path: str) -> CacheError:
    return CacheError(f"no cached entry for network {args.network!r} at {path}", path=path)


def decode_entry(data: bytes) -> dict[str, Any]:
    """A cache file as readable data: the envelope with its base64 ``config`` decoded (kept as
    text when it is not JSON); a legacy file (a bare result) comes back as ``{"result": ...}``."""
    from .. import _json, cache

    try:
        doc = _json.loads(data)
    except _json.JSONError as exc:
        raise CacheError(f"cache file is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kind") != cache.CACHE_KIND:
        return {"kind": None, "result": doc}
    shown = dict(doc)
    config = doc.get("config")
    if isinstance(config, str):
        try:
            raw = base64.b64decode(config, validate=True)
            shown["config"] = _json.loads(raw)
        except (binascii.Error, ValueError, PycniError):
            pass
    return shown


def run_show(args: argparse.Namespace, out: Output) -> int:
    from .. import cache

    directory, name, path = _entry(args)
    data = cache.read_entry(directory, name)
    if data is None:
        raise _missing(args, path)
    doc = decode_entry(data)
    if out.json_mode:
        out.document({"file": path, "entry": doc})
        return EXIT_OK
    out.text(f"file:        {path}")
    for key, label in (
        ("networkName", "network"),
        ("containerId", "container"),
        ("ifName", "ifname"),
        ("netns", "netns"),
    ):
        if doc.get(key):
            out.text(f"{label + ':':<12} {doc[key]}")
    if doc.get("cniArgs"):
        out.text(f"{'args:':<12} {';'.join('='.join(map(str, p)) for p in doc['cniArgs'])}")
    if doc.get("capabilityArgs"):
        out.text(f"{'capabilities:':<12} {dumps(doc['capabilityArgs'])}")
    out.text("result:")
    out.text(dumps(doc.get("result")))
    if "config" in doc:
        out.text("config:")
        out.text(dumps(doc["config"]))
    return EXIT_OK


def run_rm(args: argparse.Namespace, out: Output) -> int:
    from .. import cache

    directory, name, path = _entry(args)
    if cache.read_entry(directory, name) is None:
        raise _missing(args, path)
    cache.delete_entry(directory, name)
    out.document({"file": path, "removed": True})
    out.text(f"removed {path}")
    return EXIT_OK
