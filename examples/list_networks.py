"""List the CNI networks of a configuration directory.

Usage::

    python examples/list_networks.py            # the bundled examples/net.d
    python examples/list_networks.py /etc/cni/net.d

For every network found it prints the name, the selected spec version, the plugin chain and the
file it came from; a network hidden by a file that takes precedence is marked ``(shadowed by
...)``. Files that fail to load are listed on stderr with their error, and the exit status is 1
when there are any. It uses :func:`pycni.scan_conf_dir`, which reports broken files instead of
failing the whole directory as libcni's lookup does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pycni.config import scan_conf_dir

BUNDLED = Path(__file__).resolve().parent / "net.d"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conf_dir", nargs="?", default=str(BUNDLED), help="default: %(default)s")
    args = parser.parse_args(argv)

    scan = scan_conf_dir(args.conf_dir)
    if not scan.networks and not scan.failures:
        print(f"no net configurations found in {scan.dir}")
    rows = [("NAME", "VERSION", "PLUGINS", "FILE")]
    for network in scan.networks:
        conf = network.config
        source = network.path
        if network.shadowed_by:
            source += f" (shadowed by {network.shadowed_by})"
        chain = " -> ".join(plugin.type for plugin in conf.plugins)
        rows.append((conf.name, conf.cni_version or "-", chain, source))
    if scan.networks:
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(3)]
            print("  ".join([*cells, row[3]]))
    for failure in scan.failures:
        print(f"error: {failure.error}", file=sys.stderr)
    return 1 if scan.failures else 0


if __name__ == "__main__":
    sys.exit(main())
