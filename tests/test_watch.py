"""Conf-dir watching: change events, broken files, directory deleted and recreated, readiness."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from pycni.sandbox import Sandbox
from pycni.testing.fake_executor import FakeExecutor
from pycni.watch import ConfDirWatcher, diff_states, load_state


def write(path: Path, name: str, plugin: str = "bridge") -> None:
    # write-then-rename, and bump mtime so quick rewrites are always seen as changes
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"cniVersion": "1.0.0", "name": name, "plugins": [{"type": plugin}]}))
    os.replace(tmp, path)
    stamp = path.stat().st_mtime_ns + 1_000_000
    os.utime(path, ns=(stamp, stamp))


def kinds(events: list) -> list[tuple[str, str, str | None]]:  # type: ignore[type-arg]
    return [(e.kind, os.path.basename(e.path), e.network) for e in events]


def test_add_modify_remove(tmp_path: Path) -> None:
    d = tmp_path / "net.d"
    d.mkdir()
    w = ConfDirWatcher(d, use_inotify=False)
    assert not w.ready and w.poll() == []
    write(d / "10-a.conflist", "a")
    assert kinds(w.poll()) == [("added", "10-a.conflist", "a")]
    assert w.ready
    assert w.poll() == []  # nothing changed: no events, no re-parse
    write(d / "10-a.conflist", "a", "macvlan")
    assert kinds(w.poll()) == [("modified", "10-a.conflist", "a")]
    assert [p.type for p in w.state.networks[0].config.plugins] == ["macvlan"]
    (d / "10-a.conflist").unlink()
    assert kinds(w.poll()) == [("removed", "10-a.conflist", "a")]
    assert not w.ready


def test_broken_file_keeps_last_good_version_and_others(tmp_path: Path) -> None:
    d = tmp_path / "net.d"
    d.mkdir()
    write(d / "10-a.conflist", "a")
    write(d / "20-b.conflist", "b")
    w = ConfDirWatcher(d, use_inotify=False, min_networks=2)
    assert w.ready
    (d / "10-a.conflist").write_text('{"cniVersion": "1.0.0", "name": "a", "plug')  # half written
    events = w.poll()
    assert kinds(events) == [("failed", "10-a.conflist", "a")]
    assert "error parsing configuration list" in str(events[0].error)
    assert [n.name for n in w.state.networks] == ["a", "b"]  # nothing unloaded
    assert w.state.stale == {str(d / "10-a.conflist")}
    write(d / "10-a.conflist", "a", "ptp")
    assert kinds(w.poll()) == [("recovered", "10-a.conflist", "a")]
    assert w.state.stale == frozenset()
    assert [p.type for p in w.state.networks[0].config.plugins] == ["ptp"]


def test_new_broken_file_does_not_hide_others(tmp_path: Path) -> None:
    d = tmp_path / "net.d"
    d.mkdir()
    write(d / "20-b.conflist", "b")
    w = ConfDirWatcher(d, use_inotify=False)
    (d / "10-bad.conflist").write_text("[]")
    assert kinds(w.poll()) == [("failed", "10-bad.conflist", None)]
    assert [n.name for n in w.state.networks] == ["b"]


def test_directory_deleted_and_recreated(tmp_path: Path) -> None:
    d = tmp_path / "net.d"
    d.mkdir()
    write(d / "10-a.conflist", "a")
    w = ConfDirWatcher(d, use_inotify=False)
    shutil.rmtree(d)
    assert kinds(w.poll()) == [("dir-removed", "net.d", None), ("removed", "10-a.conflist", "a")]
    assert not w.ready
    d.mkdir()
    write(d / "10-a.conflist", "a")
    assert kinds(w.poll()) == [("dir-created", "net.d", None), ("added", "10-a.conflist", "a")]
    assert w.ready


def test_precedence_conflist_over_conf_and_drop_in_dirs(tmp_path: Path) -> None:
    d = tmp_path / "net.d"
    d.mkdir()
    (d / "05-a.conf").write_text(json.dumps({"cniVersion": "1.0.0", "name": "a", "type": "x"}))
    write(d / "10-a.conflist", "a")
    state = load_state(d)
    assert [n.path for n in state.networks] == [str(d / "10-a.conflist")]
    (d / "a").mkdir()
    (d / "a" / "extra.conf").write_text(json.dumps({"type": "tuning"}))
    new = load_state(d, state)
    assert new is not state  # a drop-in plugin file changes the network
    assert [p.type for p in new.get("a").config.plugins] == ["bridge", "tuning"]  # type: ignore[union-attr]
    assert kinds(diff_states(state, new)) == [("modified", "10-a.conflist", "a")]


def test_async_iterator_with_inotify_sees_recreated_directory(tmp_path: Path) -> None:
    d = tmp_path / "net.d"

    async def main() -> list[str]:
        w = ConfDirWatcher(d, interval=0.5, settle=0.01)
        seen: list[str] = []

        async def consume() -> None:
            async for event in w:
                seen.append(event.kind)
                if event.kind == "added" and "dir-removed" in seen:
                    return

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.05)
        d.mkdir()
        write(d / "10-a.conflist", "a")
        assert await w.wait_ready(timeout=5)
        await asyncio.sleep(0.1)
        shutil.rmtree(d)
        await asyncio.sleep(0.3)
        d.mkdir()
        write(d / "10-a.conflist", "a")
        await asyncio.wait_for(task, 5)
        w.close()
        return seen

    seen = asyncio.run(main())
    assert seen[:2] == ["dir-created", "added"]
    assert "dir-removed" in seen and seen[-1] == "added"


def test_wait_ready_times_out(tmp_path: Path) -> None:
    w = ConfDirWatcher(tmp_path / "missing", interval=0.05, use_inotify=False)
    assert asyncio.run(w.wait_ready(timeout=0.2)) is False


def test_sandbox_watch_applies_changes(tmp_path: Path) -> None:
    d = tmp_path / "net.d"
    d.mkdir()
    fake = FakeExecutor()
    sb = Sandbox(d, ["/opt/cni/bin"], cache_dir=tmp_path / "cache", executor=fake)
    assert [n.name for n in sb.networks] == ["cni-loopback"]

    async def main() -> None:
        events = sb.watch(interval=0.05, use_inotify=False)
        write(d / "10-a.conflist", "a")
        event = await asyncio.wait_for(events.__anext__(), 5)
        assert event.kind == "added"
        assert [n.name for n in sb.networks] == ["cni-loopback", "a"]
        (d / "10-a.conflist").write_text("{")
        event = await asyncio.wait_for(events.__anext__(), 5)
        assert event.kind == "failed"
        assert [n.name for n in sb.networks] == ["cni-loopback", "a"]  # last good kept
        assert sb.get_config()[1]["stale"] is True
        await events.aclose()

    asyncio.run(main())


def test_missing_directory_is_an_empty_state(tmp_path: Path) -> None:
    state = load_state(tmp_path / "nope")
    assert not state.exists and state.networks == ()
    assert diff_states(None, state) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read unreadable files")
def test_unreadable_file_is_reported(tmp_path: Path) -> None:  # pragma: no cover - non-root only
    d = tmp_path / "net.d"
    d.mkdir()
    write(d / "10-a.conflist", "a")
    (d / "10-a.conflist").chmod(0)
    assert load_state(d).failures
