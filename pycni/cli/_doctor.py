"""``pycni doctor``: what is wrong with this node's CNI setup (:func:`pycni.diagnose`)."""

from __future__ import annotations

import argparse
from typing import Any

from ._options import add_bin_dir_flag, add_conf_dir_flag, add_json_flag, bin_dirs, conf_dir
from ._output import EXIT_FAILED, EXIT_OK, Output


def register(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    parser = sub.add_parser(
        "doctor",
        help="diagnose the configuration directory and plugin binaries",
        description="Check every network of the configuration directory: the file it comes "
        "from and what it shadows, each plugin binary (found or missing), each plugin's "
        "VERSION against the network's cniVersion, and the capabilities declared. Exit "
        "status 0 when everything is usable, 1 otherwise.",
        formatter_class=formatter,
    )
    add_conf_dir_flag(parser)
    add_bin_dir_flag(parser)
    parser.add_argument(
        "--no-loopback",
        action="store_true",
        help="do not require the loopback plugin (every Kubernetes sandbox needs it)",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from ..diagnosis import diagnose

    report = diagnose(conf_dir(args), bin_dirs(args), loopback=not args.no_loopback)
    if out.json_mode:
        out.document(report.to_dict())
    else:
        out.raw(report.render().rstrip("\n") + "\n")
    return EXIT_OK if report.ok else EXIT_FAILED  # report.exit_code, spelled out
