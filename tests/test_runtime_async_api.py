"""One rule for the asyncio runtime: every public method of ``AsyncCNIConfig`` is awaited.

Verbs and cache getters are coroutine functions (``await acni.get_cached_attachments()``);
``attach`` is the one exception, an async context manager. The public methods of the two
runtimes are the same names.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from pathlib import Path
from typing import Any

import pytest

import pycni
from pycni.testing import AsyncFakeExecutor

CONTEXT_MANAGERS = {"attach"}


def public_methods(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_every_public_method_of_the_async_runtime_is_a_coroutine_function() -> None:
    methods = public_methods(pycni.AsyncCNIConfig)
    assert {"get_cached_attachments", "get_network_list_cached_result", "add_network_list"} <= set(
        methods
    )
    not_awaitable = [
        name
        for name, method in methods.items()
        if name not in CONTEXT_MANAGERS and not inspect.iscoroutinefunction(method)
    ]
    assert not_awaitable == [], f"AsyncCNIConfig methods that are not coroutines: {not_awaitable}"


def test_attach_is_an_async_context_manager(tmp_path: Path) -> None:
    acni = pycni.AsyncCNIConfig(path=["/fake"], cache_dir=tmp_path, executor=AsyncFakeExecutor())
    conf = pycni.NetworkConfigList.from_bytes(
        b'{"cniVersion":"1.1.0","name":"net","plugins":[{"type":"bridge"}]}'
    )
    manager = acni.attach(conf, pycni.RuntimeConf("c1", "/n", "eth0"))
    assert hasattr(manager, "__aenter__") and hasattr(manager, "__aexit__")
    assert not hasattr(manager, "__enter__")


def test_both_runtimes_have_the_same_public_methods() -> None:
    assert set(public_methods(pycni.AsyncCNIConfig)) == set(public_methods(pycni.CNIConfig))
    for name, method in public_methods(pycni.CNIConfig).items():
        assert not inspect.iscoroutinefunction(method), f"CNIConfig.{name} is a coroutine"


def test_async_cache_getters_answer_what_the_sync_ones_do(tmp_path: Path) -> None:
    """After an async ADD, each awaited getter returns what the sync getter returns for the same
    cache, and reads the cache off the event loop's thread."""
    afake = AsyncFakeExecutor()
    afake.add_plugin("bridge")
    acni = pycni.AsyncCNIConfig(path=["/fake"], cache_dir=tmp_path / "cache", executor=afake)
    sync = pycni.CNIConfig(path=["/fake"], cache_dir=tmp_path / "cache")
    conf = pycni.NetworkConfigList.from_bytes(
        b'{"cniVersion":"1.1.0","name":"net","plugins":[{"type":"bridge"}]}'
    )
    # the single-plugin getters address the same cache entry by the network name
    single = pycni.NetworkConfig.from_bytes(b'{"cniVersion":"1.1.0","name":"net","type":"bridge"}')
    rt = pycni.RuntimeConf("c1", "/n", "eth0", args=[("K", "V")])
    loop_threads: list[int] = []
    read_threads: list[int] = []
    real = acni._cached_attachments

    def spy(container_id: str) -> list[pycni.NetworkAttachment]:
        read_threads.append(threading.get_ident())
        return real(container_id)

    acni._cached_attachments = spy  # type: ignore[method-assign]

    async def main() -> tuple[Any, ...]:
        loop_threads.append(threading.get_ident())
        await acni.add_network_list(conf, rt)
        return (
            await acni.get_cached_attachments(),
            await acni.get_cached_attachments("other"),
            await acni.get_network_list_cached_result(conf, rt),
            await acni.get_network_list_cached_config(conf, rt),
            await acni.get_network_cached_config(single, rt),
        )

    attachments, none, result, config, single_config = asyncio.run(main())
    assert [a.container_id for a in attachments] == ["c1"]
    assert attachments == sync.get_cached_attachments()
    assert none == []
    assert (
        result is not None
        and result.to_dict() == sync.get_network_list_cached_result(conf, rt).to_dict()
    )  # type: ignore[union-attr]
    assert config == sync.get_network_list_cached_config(conf, rt) == single_config
    assert read_threads and read_threads[0] != loop_threads[0]

    async def nothing() -> Any:
        await acni.del_network_list(conf, rt)
        return await acni.get_network_cached_result(single, rt)

    assert asyncio.run(nothing()) is None


def test_async_getter_errors_are_raised_when_awaited(tmp_path: Path) -> None:
    results = tmp_path / "cache" / "results"
    results.mkdir(parents=True, mode=0o700)
    (results / "net-c1-eth0").write_bytes(b"not json")
    acni = pycni.AsyncCNIConfig(path=["/fake"], cache_dir=tmp_path / "cache")
    conf = pycni.NetworkConfigList.from_bytes(
        b'{"cniVersion":"1.1.0","name":"net","plugins":[{"type":"bridge"}]}'
    )
    pending = acni.get_network_list_cached_config(conf, pycni.RuntimeConf("c1", "/n", "eth0"))
    with pytest.raises(pycni.CacheError):
        asyncio.run(pending)
