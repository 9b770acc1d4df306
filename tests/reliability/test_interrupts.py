"""Cancellation and Ctrl-C at random moments of ``Sandbox.setup()`` (issue 17 item 3).

After every trial either setup returned (every network attached and cached: the test tears it
down) or the interrupt reached the caller and nothing is left: no cache entry, and every
network whose ADD was started got a DEL. An interrupt that landed just as the last parallel ADD
finished used to re-raise with every network attached and cached (about 1 trial in 100).

``PYCNI_INTERRUPT_TRIALS`` sets the number of trials per driver: 100 by default, 1,000 in the
nightly profile (``nox -s fuzz``). Before the fix, 600 trials failed both drivers every time.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pycni.sandbox import AsyncSandbox, Sandbox, SandboxError
from pycni.testing.fake_executor import AsyncFakeExecutor, FakeExecutor

_DEFAULT = "1000" if os.environ.get("HYPOTHESIS_PROFILE") == "nightly" else "100"
TRIALS = int(os.environ.get("PYCNI_INTERRUPT_TRIALS", _DEFAULT))
BIN = "/opt/cni/bin"


def _write(conf_dir: Path) -> None:
    for index, name in enumerate(("neta", "netb", "netc")):
        doc = {"cniVersion": "1.0.0", "name": name, "plugins": [{"type": "quick"}]}
        (conf_dir / f"{index}0-{name}.conflist").write_text(json.dumps(doc))


def _result(env: Mapping[str, str]) -> dict[str, Any]:
    return {"cniVersion": "1.0.0", "interfaces": [{"name": env["CNI_IFNAME"]}]}


def _leftovers(fake: FakeExecutor, container: str) -> Counter[tuple[str, str]]:
    """ADDs not followed by a DEL, per (network, ifname), for one container."""
    live: Counter[tuple[str, str]] = Counter()
    for call in fake.calls:
        if call.env.get("CNI_CONTAINERID") != container:
            continue
        key = (json.loads(call.stdin)["name"], call.env["CNI_IFNAME"])
        if call.command == "ADD":
            live[key] += 1
        elif call.command == "DEL":
            live[key] = 0
    return +live


def _check_trial(sandbox: Any, fake: FakeExecutor, container: str, completed: bool) -> None:
    cached = [a for a in sandbox.cni_for_tests() if a.container_id == container]
    if completed:
        assert len(cached) == 4, cached  # loopback + three networks
    else:
        assert cached == [], f"interrupted setup left {cached}"
        assert not _leftovers(fake, container), _leftovers(fake, container)


def _sandbox(cls: type, tmp_path: Path, fake: FakeExecutor) -> Any:
    sandbox = cls(
        tmp_path / "net.d", [BIN], cache_dir=tmp_path / "cache", executor=fake, max_networks=None
    )
    sandbox.cni_for_tests = lambda: sandbox_cache(tmp_path / "cache")
    return sandbox


def sandbox_cache(cache_dir: Path) -> list[Any]:
    import pycni

    return pycni.CNIConfig(path=[BIN], cache_dir=cache_dir).get_cached_attachments()


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    (tmp_path / "net.d").mkdir()
    _write(tmp_path / "net.d")
    return tmp_path


def test_async_cancel_at_random_moments_rolls_back(conf: Path) -> None:
    rng = random.Random(1717)
    fake = AsyncFakeExecutor()

    async def quick(command: str, env: Mapping[str, str], stdin: bytes) -> Any:
        await asyncio.sleep(rng.random() * 0.003)
        return _result(env) if command == "ADD" else None

    fake.add_plugin("quick", quick)
    fake.add_plugin("loopback", quick)
    sandbox = _sandbox(AsyncSandbox, conf, fake)
    outcomes: Counter[str] = Counter()

    async def trial(n: int) -> None:
        container = f"a{n}"
        task = asyncio.ensure_future(sandbox.setup(container, "/ns"))
        await asyncio.sleep(rng.random() * 0.012)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            outcomes["cancelled"] += 1
            _check_trial(sandbox, fake, container, completed=False)
        except SandboxError:  # pragma: no cover - no plugin fails here
            raise
        else:
            outcomes["completed"] += 1
            _check_trial(sandbox, fake, container, completed=True)
            await sandbox.teardown(container, "/ns")

    async def main() -> None:
        for n in range(TRIALS):
            await trial(n)

    asyncio.run(main())
    assert outcomes["cancelled"] > 0  # the trials really interrupted setups


# A Ctrl-C that lands inside a finalizer (a weakref callback run by the garbage collector) is
# swallowed by Python itself and reported as an unraisable exception: that trial simply sees no
# interrupt, which its check handles.
_FINALIZER_CTRL_C = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@_FINALIZER_CTRL_C
def test_ctrl_c_at_random_moments_rolls_back(conf: Path) -> None:
    rng = random.Random(4242)
    fake = FakeExecutor()
    lock = threading.Lock()

    def quick(command: str, env: Mapping[str, str], stdin: bytes) -> Any:
        with lock:
            pause = rng.random() * 0.003
        threading.Event().wait(pause)
        return _result(env) if command == "ADD" else None

    fake.add_plugin("quick", quick)
    fake.add_plugin("loopback", quick)
    sandbox = _sandbox(Sandbox, conf, fake)
    inside = threading.Event()

    def on_sigint(signum: int, frame: Any) -> None:
        if inside.is_set():
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    outcomes: Counter[str] = Counter()
    try:
        for n in range(TRIALS):
            container = f"s{n}"
            timer = threading.Timer(
                rng.random() * 0.015,
                signal.pthread_kill,
                (threading.main_thread().ident, signal.SIGINT),
            )
            result = None
            try:
                inside.set()
                timer.start()
                result = sandbox.setup(container, "/ns")
                inside.clear()
            except KeyboardInterrupt:
                inside.clear()
            finally:
                timer.join()
                inside.clear()
            if result is None:
                outcomes["interrupted"] += 1
                _check_trial(sandbox, fake, container, completed=False)
            else:
                outcomes["completed"] += 1
                _check_trial(sandbox, fake, container, completed=True)
                sandbox.teardown(container, "/ns")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert outcomes["interrupted"] > 0


def test_async_cancel_during_teardown_still_deletes_everything(conf: Path) -> None:
    """A cancelled teardown finishes deleting what is cached before the cancellation goes on."""
    rng = random.Random(99)
    fake = AsyncFakeExecutor()

    async def quick(command: str, env: Mapping[str, str], stdin: bytes) -> Any:
        await asyncio.sleep(rng.random() * 0.003)
        return _result(env) if command == "ADD" else None

    fake.add_plugin("quick", quick)
    fake.add_plugin("loopback", quick)
    sandbox = _sandbox(AsyncSandbox, conf, fake)
    cancelled = 0

    async def main() -> None:
        nonlocal cancelled
        for n in range(TRIALS):
            container = f"t{n}"
            await sandbox.setup(container, "/ns")
            task = asyncio.ensure_future(sandbox.teardown(container, "/ns"))
            await asyncio.sleep(rng.random() * 0.012)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                cancelled += 1
            _check_trial(sandbox, fake, container, completed=False)

    asyncio.run(main())
    assert cancelled > 0


@_FINALIZER_CTRL_C
def test_ctrl_c_during_teardown_still_deletes_everything(conf: Path) -> None:
    rng = random.Random(7)
    fake = FakeExecutor()

    def quick(command: str, env: Mapping[str, str], stdin: bytes) -> Any:
        threading.Event().wait(0.002)
        return _result(env) if command == "ADD" else None

    fake.add_plugin("quick", quick)
    fake.add_plugin("loopback", quick)
    sandbox = _sandbox(Sandbox, conf, fake)
    inside = threading.Event()

    def on_sigint(signum: int, frame: Any) -> None:
        if inside.is_set():
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    interrupted = 0
    try:
        for n in range(TRIALS):
            container = f"u{n}"
            sandbox.setup(container, "/ns")
            timer = threading.Timer(
                rng.random() * 0.012,
                signal.pthread_kill,
                (threading.main_thread().ident, signal.SIGINT),
            )
            dels_before = len([c for c in fake.calls if c.command == "DEL"])
            try:
                inside.set()
                timer.start()
                sandbox.teardown(container, "/ns")
                inside.clear()
            except KeyboardInterrupt:
                if len([c for c in fake.calls if c.command == "DEL"]) == dels_before:
                    # it landed before teardown began (in timer.start(), or on teardown's first
                    # instruction, before any code of it ran): nothing to finish; as a user would,
                    # run the teardown again
                    sandbox.teardown(container, "/ns")
                else:
                    interrupted += 1
            finally:
                inside.clear()
                timer.join()
            _check_trial(sandbox, fake, container, completed=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert interrupted > 0
