"""``pycni exec --network NAME -- CMD ARGS...``: scripted sandbox networking in one line (root).

Creates a network namespace, attaches the loopback network (``lo`` up with 127.0.0.1/8 and ::1)
and the named network(s) with :class:`pycni.sandbox.Sandbox` (so a failed attach is rolled back),
runs CMD inside the namespace, and on the way out, whatever happened (CMD's exit, a signal,
Ctrl-C), detaches the networks and removes the namespace.

CMD inherits stdin/stdout/stderr; pycni's own notes go to stderr. The exit status is CMD's
(128 + N when a signal N ended it); when pycni fails before CMD starts, 1 or 2 with one error line.
Ctrl-C reaches CMD from the terminal and pycni waits for it; SIGTERM and SIGHUP sent to pycni are
passed on to CMD.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from ..errors import PycniError
from ._options import (
    add_bin_dir_flag,
    add_cache_dir_flag,
    add_conf_dir_flag,
    add_identity_flags,
    add_runtime_flags,
    add_timeout_flag,
    bin_dirs,
    cache_dir,
    capability_args,
    cni_args,
    conf_dir,
    container_id,
)
from ._output import EXIT_FAILED, Output, UsageError

_FORWARDED = (signal.SIGTERM, signal.SIGHUP)


def register(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    parser = sub.add_parser(
        "exec",
        help="run a command in a new network namespace attached to a network (root)",
        description="Create a network namespace, attach loopback and NETWORK, run CMD inside "
        "it, then detach and remove the namespace when CMD exits (also on Ctrl-C). The exit "
        "status is CMD's. Needs root.",
        epilog="example:\n  pycni exec --network mynet --port 8080:80 -- python3 -m http.server 80",
        formatter_class=formatter,
    )
    parser.add_argument(
        "--network",
        metavar="NAME",
        action="append",
        required=True,
        help="network to attach (repeatable: eth0, eth1, ... in order)",
    )
    parser.add_argument(
        "--no-loopback", action="store_true", help="do not attach the loopback network"
    )
    add_conf_dir_flag(parser)
    add_bin_dir_flag(parser)
    add_cache_dir_flag(parser)
    add_identity_flags(parser)
    add_runtime_flags(parser)
    add_timeout_flag(parser)
    parser.add_argument(
        "command", metavar="-- CMD ARGS", nargs=argparse.REMAINDER, help="the command to run"
    )
    parser.set_defaults(handler=run)


def _command(args: argparse.Namespace) -> list[str]:
    argv = list(args.command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("no command given: pycni exec --network NAME -- CMD ARGS...")
    return argv


class _Signals:
    """Signal handling from the moment CMD may start until the teardown is done.

    SIGINT only makes pycni wait (the terminal already sent it to CMD, and a second Ctrl-C must
    not interrupt the teardown); SIGTERM and SIGHUP are passed on to CMD while it runs. The
    previous handlers come back on exit.
    """

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self._previous: dict[int, Any] = {}

    def _forward(self, signum: int, _frame: FrameType | None) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signum)

    @staticmethod
    def _wait(_signum: int, _frame: FrameType | None) -> None:
        return None

    @contextmanager
    def installed(self) -> Iterator[_Signals]:
        self._previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, *_FORWARDED)}
        signal.signal(signal.SIGINT, self._wait)
        for forwarded in _FORWARDED:
            signal.signal(forwarded, self._forward)
        try:
            yield self
        finally:
            for number, handler in self._previous.items():
                signal.signal(number, handler)


def run(args: argparse.Namespace, out: Output) -> int:
    from ..netns import netns_available, temporary_netns
    from ..sandbox import Sandbox

    argv = _command(args)
    if len(args.network) > 1 and args.ifname:
        raise UsageError("--ifname applies to a single --network (several get eth0, eth1, ...)")
    usable, why = netns_available(probe=False)
    if not usable:
        raise UsageError(f"pycni exec: {why}")
    pairs = cni_args(args)
    caps = capability_args(args)
    sandbox = Sandbox(
        conf_dir(args),
        bin_dirs(args),
        cache_dir=cache_dir(args),
        networks=args.network,
        loopback=not args.no_loopback,
        ifnames={args.network[0]: args.ifname} if args.ifname else None,
        timeout=args.timeout,
    )
    chosen = {network.name for network in sandbox.networks}
    if any(name not in chosen for name in args.network):
        problems = [error for _path, error in sandbox.load_errors]
        raise problems[-1] if problems else UsageError(f"network(s) not found: {args.network}")
    with temporary_netns("pycni-exec-") as netns:
        cid = container_id(args, netns)
        result = sandbox.setup(cid, netns, args=pairs, capability_args=caps)
        status = EXIT_FAILED
        with _Signals().installed() as signals:
            try:
                for name, info in result.interfaces.items():
                    addresses = " ".join(ip.to_dict()["address"] for ip in info.ips) or "-"
                    out.note(f"pycni exec: {name} {addresses} ({info.network}) in {netns}")
                proc = _start(netns, argv)
                signals.proc = proc
                returncode = proc.wait()
                status = 128 - returncode if returncode < 0 else returncode
            finally:
                if not _teardown(sandbox, cid, netns, out) and status == 0:
                    status = EXIT_FAILED
    return status


def _start(netns: str, argv: list[str]) -> subprocess.Popen[bytes]:
    """CMD, started from a thread that joined the namespace (so the child is born inside)."""
    from ..netns import call_in_netns

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv)

    try:
        return call_in_netns(netns, spawn)
    except OSError as exc:
        raise PycniError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None


def _teardown(sandbox: Any, cid: str, netns: str, out: Output) -> bool:
    """Detach every network; report a failure on stderr (CMD's exit status stays the answer)."""
    try:
        sandbox.teardown(cid, netns)
    except PycniError as exc:
        out.error(exc, EXIT_FAILED)
        return False
    return True
