"""Fixtures of the real-plugin suite (issue 9): Debian's CNI plugins run in network namespaces.

Every test here is marked ``root``. When the host cannot run them (not root, no network
namespaces, no plugins) they skip and say why; with ``PYCNI_REQUIRE_INTEGRATION=1`` they fail
instead, so a CI host that should run them cannot quietly skip them.

Isolation: a test gets a :class:`~labkit.Lab` that names its namespaces, bridges, container IDs
and networks with the ``pcnit`` prefix plus a random token, hands out /24 subnets of
10.250.0.0/16 that nothing on the host uses, and keeps host-local allocations (``dataDir``) and
the result cache in the test's tmp directory.

The host guard (fixture ``host_guard``, autouse) snapshots the host before the first test of this
directory and, after the last one, removes what the plugins leave by design (the shared
``CNI-HOSTPORT-*``/``CNI-FORWARD``/``CNI-ADMIN`` chains, emptied nftables tables), restores
``net.ipv4.ip_forward``, and fails if a test left a namespace, a link (of any name), per-container
rules (iptables and ip6tables, nft and legacy backends) or host-local data in /var/lib/cni
behind. It holds a lock so that two runs on one host take turns.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import realnet
from labkit import CNI_PATH, PLUGINS, Lab, Suite

REQUIRE = os.environ.get("PYCNI_REQUIRE_INTEGRATION", "") not in ("", "0")
HERE = Path(__file__).parent
HOST_LOCAL_DEFAULT = Path("/var/lib/cni/networks")
LOCK_PATH = Path("/run/lock/pycni-integration.lock")
LOCK_WAIT = 1800.0
# iptables text that only a live attachment explains (a test that did not DEL leaves it behind)
PER_CONTAINER_MARKS = ("CNI-DN-", "10.250.", realnet.PREFIX)


def _inside(item: pytest.Item | None) -> bool:
    return item is not None and HERE in Path(str(item.path)).parents


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this directory ``root`` (``-m "not root"`` deselects the suite)."""
    for item in items:
        if _inside(item):
            item.add_marker(pytest.mark.root)


def _host_local_state() -> set[str]:
    if not HOST_LOCAL_DEFAULT.is_dir():
        return set()
    return {str(p) for p in HOST_LOCAL_DEFAULT.rglob("*")}


def _lock() -> IO[str]:
    """Take the suite's host lock (waiting for another run to finish).

    The suite changes host-wide state (iptables chains shared by all containers,
    ``net.ipv4.ip_forward``) and restores it at the end; two runs at once (two developers, or
    nox sessions in parallel) would undo each other's state, so runs take turns.
    """
    LOCK_PATH.parent.mkdir(parents=True, exist_ok=True)
    handle = LOCK_PATH.open("a")
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                pytest.fail(f"another real-plugin test run held {LOCK_PATH} for {LOCK_WAIT}s")
            time.sleep(0.2)


class HostGuard:
    """The host as the suite found it, and the clean-up that restores it."""

    def __init__(self) -> None:
        self._lock = _lock()
        self.rules = realnet.iptables_snapshot()
        self.tables = realnet.nft_tables()
        self.forward = realnet.sysctl("net.ipv4.ip_forward")
        self.host_local = _host_local_state()
        self.links = realnet.link_names()
        self.namespaces = realnet.netns_names()
        self.suite = Suite()
        self.finished = False

    def finish(self) -> None:
        """Clean up, release the lock, and fail listing whatever the tests left behind."""
        if self.finished:
            return
        self.finished = True
        try:
            problems = self._restore()
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
        assert not problems, "the integration suite did not leave the host as it found it: " + (
            "; ".join(problems)
        )

    def _restore(self) -> list[str]:
        problems: list[str] = []
        netns, links = self.suite.leftovers()
        if netns or links:
            problems.append(f"tests left namespaces {sorted(netns)} and links {sorted(links)}")
        for name in netns:
            realnet.delete_netns(name)
        for name in links:
            realnet.delete_link(name)
        left_rules = [
            e
            for e in realnet.iptables_snapshot() - self.rules
            if any(mark in e[3] for mark in PER_CONTAINER_MARKS)
        ]
        if left_rules:
            problems.append(f"per-container iptables state left behind: {sorted(left_rules)}")
        realnet.undo_iptables(self.rules)
        realnet.undo_nft_tables(self.tables)
        realnet.set_sysctl("net.ipv4.ip_forward", self.forward)

        rules = realnet.iptables_snapshot()
        if rules != self.rules:
            problems.append(
                "iptables differs from the start after clean-up: "
                f"added {sorted(rules - self.rules)}, removed {sorted(self.rules - rules)}"
            )
        if self.suite.leftovers() != (set(), set()):
            problems.append("namespaces or links could not be removed")
        if realnet.sysctl("net.ipv4.ip_forward") != self.forward:
            problems.append("net.ipv4.ip_forward could not be restored")
        if _host_local_state() != self.host_local:
            problems.append(f"something was written to {HOST_LOCAL_DEFAULT}")
        # whatever the names: a link or namespace a test made outside the lab's prefix
        new_links = realnet.link_names() - self.links
        new_namespaces = realnet.netns_names() - self.namespaces
        if new_links or new_namespaces:
            problems.append(
                f"links {sorted(new_links)} and namespaces {sorted(new_namespaces)} appeared"
            )
        return problems


_guards: list[HostGuard] = []


@pytest.fixture(scope="session", autouse=True)
def host_guard() -> Iterator[Suite]:
    """Skip (or fail) when the host cannot run the suite; leave the host as it was found.

    Session-scoped so that it is set up once, but finished right after the last test of this
    directory (see ``pytest_runtest_teardown``), so that it guards exactly this suite.
    """
    reason = realnet.unavailable_reason(CNI_PATH, PLUGINS)
    if reason is not None:
        if REQUIRE:
            pytest.fail(f"PYCNI_REQUIRE_INTEGRATION is set but: {reason}")
        pytest.skip(reason)
    guard = HostGuard()
    _guards.append(guard)
    try:
        yield guard.suite
    finally:
        _guards.remove(guard)
        guard.finish()  # no-op when the last test's teardown already finished it


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last test of this directory (and its fixtures), finish the host guard; a
    failure shows as that test's teardown error."""
    if not _guards or not _inside(item):
        return
    items = item.session.items
    later = items[items.index(item) + 1 :] if item in items else []
    if not any(_inside(other) for other in later):
        _guards[0].finish()


@pytest.fixture
def lab(tmp_path: Path, host_guard: Suite) -> Iterator[Lab]:
    """The test's namespaces, bridges, subnets and runtimes, cleaned up whatever the outcome."""
    bench = Lab(tmp_path, host_guard)
    try:
        yield bench
    finally:
        bench.cleanup()
