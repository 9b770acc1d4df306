"""Security: crafted identifiers, cache-dir symlinks and permissions, how plugins are executed.

File access is observed two ways: a snapshot of the whole temporary tree (what was created,
changed or deleted) and a Python audit hook (``sys.addaudithook``) recording every ``open``,
``mkdir``, ``remove``, ``rename``, directory listing and ``subprocess.Popen`` pycni makes while a
verb runs, with ``dir_fd``-relative names resolved (issue 10, "Security")."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from reliability_support import AsyncInProcessExecutor, InProcessExecutor, ok_handler, snapshot

import pycni
from pycni import cache
from pycni.errors import CacheError, ConfigError, PycniError

# --------------------------------------------------------------------------------------------
# the audit hook
# --------------------------------------------------------------------------------------------

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_WRITES = {"os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.symlink", "os.chmod", "os.link"}
_READS = {"open", "os.listdir", "os.scandir"}


class Audit:
    """Records file-system and process events while active (the hook cannot be removed, so it
    stays installed and does nothing when inactive)."""

    def __init__(self) -> None:
        self.active = False
        self.records: list[tuple[str, str, bool]] = []  # (event, path, is_write)
        self.execs: list[tuple[str, list[str]]] = []

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        try:
            self._record(event, args)
        except Exception:  # never disturb the code being audited
            self.records.append((event, "<unresolvable>", True))

    @staticmethod
    def _resolve(path: Any, dir_fd: Any) -> str | None:
        if isinstance(path, int):
            return None  # an operation on an open descriptor
        name = os.fsdecode(path)
        if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(name):
            return os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), name)
        return name

    def _record(self, event: str, args: tuple[Any, ...]) -> None:
        if event in ("subprocess.Popen", "os.posix_spawn"):
            self.execs.append((os.fsdecode(args[0]), [os.fsdecode(a) for a in args[1]]))
        elif event == "open":
            path = self._resolve(args[0], None)
            mode, flags = args[1], args[2]
            write = bool(flags and flags & _WRITE_FLAGS) or bool(
                isinstance(mode, str) and set(mode) & set("wax+")
            )
            if path is not None:
                self.records.append((event, path, write))
        elif event in ("os.listdir", "os.scandir"):
            path = self._resolve(args[0], None) if args and args[0] is not None else "."
            if path is not None:
                self.records.append((event, path, False))
        elif event in ("os.remove", "os.rmdir", "os.mkdir", "os.chmod"):
            dir_fd = args[-1]
            path = self._resolve(args[0], dir_fd)
            if path is not None:
                self.records.append((event, path, True))
        elif event in ("os.rename", "os.link"):
            for name, dir_fd in ((args[0], args[2]), (args[1], args[3])):
                path = self._resolve(name, dir_fd)
                if path is not None:
                    self.records.append((event, path, True))
        elif event == "os.symlink":
            path = self._resolve(args[1], args[2])
            if path is not None:
                self.records.append((event, path, True))


AUDIT = Audit()
sys.addaudithook(AUDIT.hook)

_SYSTEM_READS = tuple(
    {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(pycni.__file__), "/proc/"}
)


@contextmanager
def audited() -> Iterator[Audit]:
    AUDIT.records, AUDIT.execs = [], []
    AUDIT.active = True
    try:
        yield AUDIT
    finally:
        AUDIT.active = False


def _inside(path: str, root: Path) -> bool:
    real = os.path.normpath(path)
    return real == str(root) or real.startswith(str(root) + os.sep)


def assert_confined(audit: Audit, *, writable: Path, readable: list[Path], bin_dir: Path) -> None:
    """Writes only under ``writable``; reads only there, in ``readable`` or the interpreter's
    own files; plugins only from ``bin_dir`` by absolute path, never through a shell."""
    for event, path, write in audit.records:
        if not os.path.isabs(path):
            # relative to a directory descriptor that could not be resolved: must be a plain name
            assert "/" not in path and path not in (".", ".."), (event, path)
            continue
        if write:
            assert _inside(path, writable), f"{event} outside the cache dir: {path}"
        else:
            allowed = [writable, *readable]
            assert any(_inside(path, r) for r in allowed) or path.startswith(_SYSTEM_READS), (
                f"{event} read outside the allowed dirs: {path}"
            )
    for executable, argv in audit.execs:
        assert os.path.isabs(executable) and _inside(executable, bin_dir), executable
        assert argv == [executable], f"plugin started with extra arguments: {argv}"


def test_the_audit_sees_escapes(tmp_path: Path) -> None:
    """The probe itself: a write, a delete and an exec outside the allowed dirs are caught."""
    (tmp_path / "cache").mkdir()
    victim = tmp_path / "victim"
    checks = [
        lambda: victim.write_text("x"),
        victim.unlink,
        lambda: subprocess.run(["/bin/true"], check=True),
        lambda: os.listdir("/etc"),
    ]
    for action in checks:
        with audited() as audit:
            action()
        with pytest.raises(AssertionError):
            assert_confined(audit, writable=tmp_path / "cache", readable=[], bin_dir=tmp_path)


# --------------------------------------------------------------------------------------------
# crafted identifiers
# --------------------------------------------------------------------------------------------

EVIL = [
    "..",
    ".",
    "../outside",
    "../../outside/victim",
    "/abs",
    "a/b",
    "a/../../b",
    "x\x00y",
    "x\n",
    "\n",
    " x",
    "x" * 300,
    "x" * 5000,
    "\uff4e\uff45\uff54",  # fullwidth "net"
    "\u2025",  # two dot leader, looks like ".."
    "\uff0e\uff0e",  # fullwidth full stops
    "\u2215etc",  # division slash
    "\u2044etc",  # fraction slash
    "net\u200b",  # zero-width space
    "net\u202e",  # right-to-left override
    "e\u0301",  # combining accent
]
NOOP = """#!/bin/sh
cat >/dev/null
case "$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}' ;;
ADD) echo '{"cniVersion":"1.1.0"}' ;;
esac
"""


@pytest.fixture(scope="module", autouse=True)
def _warm_up(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One ADD/DEL per driver before anything is audited: modules imported lazily on first use
    are loaded, so that their own file access is not counted as the verb's."""
    cache_dir = tmp_path_factory.mktemp("warm-up")
    conf = _conf("net", "p")
    rt = pycni.RuntimeConf("ctr", "/n", "eth0")
    sync = pycni.CNIConfig(
        path=["/fake"], cache_dir=cache_dir, executor=InProcessExecutor({"*": ok_handler})
    )
    sync.add_network_list(conf, rt)
    sync.del_network_list(conf, rt)
    asyn = pycni.AsyncCNIConfig(
        path=["/fake"], cache_dir=cache_dir, executor=AsyncInProcessExecutor({"*": ok_handler})
    )
    asyncio.run(asyn.add_network_list(conf, rt))
    asyncio.run(asyn.del_network_list(conf, rt))


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A sandbox: conf, bin (a harmless plugin), cache, bystander files, and an empty CWD."""
    paths = {name: tmp_path / name for name in ("conf", "bin", "cache", "outside", "cwd", "abs")}
    for path in paths.values():
        path.mkdir()
    (paths["outside"] / "victim").write_text("precious")
    (paths["abs"] / "victim").write_text("precious")
    (paths["bin"] / "noop").write_text(NOOP)
    (paths["bin"] / "noop").chmod(0o755)
    monkeypatch.chdir(paths["cwd"])
    paths["root"] = tmp_path
    return paths


def _conf(name: str, plugin_type: str) -> pycni.NetworkConfigList:
    import json

    doc = {"cniVersion": "1.1.0", "name": name, "plugins": [{"type": plugin_type}]}
    return pycni.NetworkConfigList.from_bytes(json.dumps(doc).encode())


def _try(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except PycniError as exc:
        return exc


CRAFTED = [
    pytest.param(field, value, id=f"{field}-{value!r:.24}")
    for field in ("network", "container", "ifname", "type")
    for value in EVIL
]


@pytest.mark.parametrize(("field", "value"), CRAFTED)
def test_crafted_identifiers_stay_inside_the_cache_dir(
    tree: dict[str, Path], field: str, value: str
) -> None:
    """Reference 11 item 30 and issue 10: every verb with a crafted network name, container ID,
    interface name or plugin type either fails with a PycniError or works on a plain file name
    inside ``results/``; nothing outside the cache dir is created, changed, deleted or read, and
    only the configured plugin runs."""
    names = {"network": "net", "container": "ctr", "ifname": "eth0", "type": "noop", field: value}
    conf = _conf(names["network"], names["type"])
    rt = pycni.RuntimeConf(names["container"], "/var/run/netns/x", names["ifname"])
    cache_dir = tree["cache"]
    outside_before = snapshot(tree["root"], skip=[cache_dir])
    sync = pycni.CNIConfig(path=[str(tree["bin"])], cache_dir=cache_dir)
    asyn = pycni.AsyncCNIConfig(path=[str(tree["bin"])], cache_dir=cache_dir)
    with audited() as audit:
        for verb in ("add_network_list", "check_network_list", "del_network_list"):
            _try(getattr(sync, verb), conf, rt, timeout=10)
        _try(asyncio.run, asyn.add_network_list(conf, rt, timeout=10))
        _try(asyncio.run, asyn.del_network_list(conf, rt, timeout=10))
        _try(sync.gc_network_list, conf, pycni.GCArgs([(names["container"], names["ifname"])]))
        _try(sync.get_status_network_list, conf)
        _try(sync.validate_network_list, conf)
        _try(sync.get_network_list_cached_result, conf, rt)
        _try(sync.get_network_list_cached_config, conf, rt)
        _try(sync.get_cached_attachments, names["container"])
        _try(asyncio.run, asyn.get_network_list_cached_result(conf, rt))
        _try(asyncio.run, asyn.get_network_list_cached_config(conf, rt))
        _try(asyncio.run, asyn.get_cached_attachments(names["container"]))
        _try(sync.get_version_info, names["type"])
        for single in (sync.add_network, sync.del_network):
            _try(single, conf.plugins[0], rt)
    assert snapshot(tree["root"], skip=[cache_dir]) == outside_before
    assert_confined(audit, writable=cache_dir, readable=[tree["bin"]], bin_dir=tree["bin"])
    for path in cache_dir.rglob("*"):
        relative = path.relative_to(cache_dir).parts
        assert relative[0] == "results" and len(relative) <= 3, path
        assert len(relative) < 3 or relative[1] == ".locks", path


def test_conf_dir_lookups_with_crafted_names_read_only_the_conf_dir(
    tree: dict[str, Path],
) -> None:
    """Looking a network up by a crafted name reads only the conf dir (names are compared, never
    joined into paths); files outside are not read."""
    (tree["conf"] / "10-net.conflist").write_text(
        '{"cniVersion":"1.1.0","name":"net","plugins":[{"type":"noop"}]}'
    )
    (tree["outside"] / "x.conflist").write_text(
        '{"cniVersion":"1.1.0","name":"x","plugins":[{"type":"noop"}]}'
    )
    with audited() as audit:
        for name in EVIL:
            for load in (pycni.load_conf_list, pycni.load_conf):
                _try(load, tree["conf"], name)
        pycni.scan_conf_dir(tree["conf"])
    assert_confined(audit, writable=tree["cache"], readable=[tree["conf"]], bin_dir=tree["bin"])


def test_conflist_name_cannot_pull_plugins_from_outside_the_conf_dir(
    tree: dict[str, Path],
) -> None:
    """A conflist whose name is ``../outside`` does not read ``<conf>/../outside/*.conf`` (libcni
    does: it joins the name into the sub-directory path unvalidated)."""
    (tree["outside"] / "evil.conf").write_text('{"type":"evil"}')
    path = tree["conf"] / "10-net.conflist"
    path.write_text('{"cniVersion":"1.1.0","name":"../outside","plugins":[{"type":"noop"}]}')
    with audited() as audit:
        conf = _try(pycni.NetworkConfigList.from_file, path)
    assert isinstance(conf, PycniError) or [p.type for p in conf.plugins] == ["noop"]
    assert_confined(audit, writable=tree["cache"], readable=[tree["conf"]], bin_dir=tree["bin"])


def test_too_long_names_fail_before_any_plugin_runs(tree: dict[str, Path]) -> None:
    executor = InProcessExecutor({"*": ok_handler})
    cni = pycni.CNIConfig(path=["/fake"], cache_dir=tree["cache"], executor=executor)
    rt = pycni.RuntimeConf("c" * 300, "/var/run/netns/x", "eth0")
    with pytest.raises(PycniError):
        cni.add_network_list(_conf("net", "p"), rt)
    assert executor.calls == 0


def test_nul_in_environment_values_starts_nothing(tree: dict[str, Path]) -> None:
    """A NUL in CNI_ARGS or the netns cannot reach exec: a PluginError, no process started."""
    cni = pycni.CNIConfig(path=[str(tree["bin"])], cache_dir=tree["cache"])
    for rt in (
        pycni.RuntimeConf("ctr", "/var/run/netns/x", "eth0", args=[("K", "a\x00b")]),
        pycni.RuntimeConf("ctr", "/var/run/netns/\x00x", "eth0"),
    ):
        with audited() as audit, pytest.raises(pycni.ChainError) as info:
            cni.add_network_list(_conf("net", "noop"), rt)
        assert isinstance(info.value.error, pycni.PluginError)
        assert "invalid argument" in str(info.value)
        assert audit.execs == [] or all(_inside(e, tree["bin"]) for e, _ in audit.execs)


# --------------------------------------------------------------------------------------------
# executing plugins
# --------------------------------------------------------------------------------------------


def test_plugins_run_by_absolute_path_without_a_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The found path is exec'd directly (argv is just that path): shell metacharacters in the
    plugin directory are inert, and no shell is involved for either driver."""
    bin_dir = tmp_path / "b i n;touch pwned;$(touch pwned2)"
    bin_dir.mkdir()
    (bin_dir / "noop").write_text(NOOP)
    (bin_dir / "noop").chmod(0o755)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    conf = _conf("net", "noop")
    rt = pycni.RuntimeConf("ctr", "/var/run/netns/x", "eth0")
    with audited() as audit:
        assert pycni.CNIConfig(path=[str(bin_dir)], cache_dir=tmp_path / "c").add_network_list(
            conf, rt
        )
        cni = pycni.AsyncCNIConfig(path=[str(bin_dir)], cache_dir=tmp_path / "c")
        asyncio.run(cni.del_network_list(conf, rt))
    plugin = str(bin_dir / "noop")
    assert audit.execs == [(plugin, [plugin]), (plugin, [plugin])]
    assert not list(work.iterdir()) and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "path",
    [["bin"], ["./bin"], ["../bin"], [""], ["."], ["~/bin"], ["/opt/cni/bin", "rel"]],
    ids=repr,
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_relative_plugin_dirs_are_refused(kind: str, path: list[str]) -> None:
    """Issue 10: relative ``CNI_PATH`` entries (``""`` and ``.`` included) are refused with a
    ConfigError naming the entry, as a list or as a ``CNI_PATH`` string."""
    cls = pycni.CNIConfig if kind == "sync" else pycni.AsyncCNIConfig
    for given in (path, os.pathsep.join(path)):
        with pytest.raises(ConfigError) as info:
            cls(path=given)
        assert info.value.field == "path"
        assert "not an absolute path" in str(info.value)


def test_cli_refuses_relative_cni_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line reports a relative ``CNI_PATH`` entry as a usage error (status 2)."""
    cli = pytest.importorskip("pycni.cli")
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "net.conflist").write_text(
        '{"cniVersion":"1.1.0","name":"net","plugins":[{"type":"noop"}]}'
    )
    monkeypatch.setenv("NETCONFPATH", str(conf))
    monkeypatch.setenv("CNI_PATH", f"/opt/cni/bin{os.pathsep}relative/bin")
    status = cli.main(["add", "--cache-dir", str(tmp_path / "cache"), "net", "/run/netns/x"])
    assert status == 2
    assert not (tmp_path / "cache" / "results" / "net-").exists()


# --------------------------------------------------------------------------------------------
# the cache directory: permissions, world-writable dirs, symlinks, hard links
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_cache_permissions(tmp_path: Path, umask: int) -> None:
    """Issue 5 and 10: directories pycni creates are 0700, cache files 0600, lock files are
    writable by the owner only, whatever the umask."""
    old = os.umask(umask)
    try:
        cache_dir = tmp_path / "cache"
        cni = pycni.CNIConfig(
            path=["/fake"], cache_dir=cache_dir, executor=InProcessExecutor({"*": ok_handler})
        )
        cni.add_network_list(_conf("net", "p"), pycni.RuntimeConf("ctr", "/n", "eth0"))
    finally:
        os.umask(old)
    results = cache_dir / "results"
    for directory in (cache_dir, results, results / ".locks"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE((results / "net-ctr-eth0").stat().st_mode) == 0o600


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_missing_parents_of_the_cache_dir_get_the_promised_mode(tmp_path: Path, umask: int) -> None:
    """Issue 16 item 6: under any umask (000 made them 0777 before), every missing parent of
    the cache directory that pycni creates is 0700, like the cache directory itself."""
    cache_dir = tmp_path / "a" / "b" / "cache"
    tmp_path.chmod(0o750)
    existing = tmp_path.stat().st_mode
    old = os.umask(umask)
    try:
        cni = pycni.CNIConfig(
            path=["/fake"], cache_dir=cache_dir, executor=InProcessExecutor({"*": ok_handler})
        )
        cni.add_network_list(_conf("net", "p"), pycni.RuntimeConf("ctr", "/n", "eth0"))
    finally:
        os.umask(old)
    for directory in (tmp_path / "a", tmp_path / "a" / "b", cache_dir, cache_dir / "results"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert tmp_path.stat().st_mode == existing  # a directory that already existed is untouched


def test_lock_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        cni = pycni.CNIConfig(
            path=["/fake"], cache_dir=tmp_path, executor=InProcessExecutor({"*": ok_handler})
        )
        cni.add_network_list(_conf("net", "p"), pycni.RuntimeConf("ctr", "/n", "eth0"))
    finally:
        os.umask(old)
    modes = {
        p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "results/.locks").iterdir()
    }
    assert set(modes.values()) == {0o600}, modes


@pytest.mark.parametrize("where", ["cache", "results"])
def test_world_writable_cache_dir_is_refused(tmp_path: Path, where: str) -> None:
    """A world-writable cache dir or ``results`` (no sticky bit) is refused with a CacheError
    naming it, for every verb; no plugin runs for ADD, and GC deletes nothing it listed there."""
    cache_dir = tmp_path / "cache"
    executor = InProcessExecutor({"*": ok_handler})
    cni = pycni.CNIConfig(path=["/fake"], cache_dir=cache_dir, executor=executor)
    conf = _conf("net", "p")
    rt = pycni.RuntimeConf("ctr", "/n", "eth0")
    cni.add_network_list(conf, rt)
    target = cache_dir if where == "cache" else cache_dir / "results"
    target.chmod(0o777)
    executor.calls = 0
    with pytest.raises(CacheError) as info:
        cni.add_network_list(conf, rt)
    assert "world-writable" in str(info.value) and str(target) in str(info.value)
    assert info.value.path == str(target)
    assert executor.calls == 0
    for query in (cni.get_network_list_cached_result, cni.get_network_list_cached_config):
        with pytest.raises(CacheError):
            query(conf, rt)
    with pytest.raises(CacheError):
        cni.get_cached_attachments()
    with pytest.raises(CacheError):
        cni.del_network_list(conf, rt)
    executor.calls = 0
    with pytest.raises(CacheError):
        cni.gc_network_list(conf, pycni.GCArgs([]))
    assert executor.calls == 0
    assert (cache_dir / "results" / "net-ctr-eth0").exists()
    target.chmod(0o700)
    cni.del_network_list(conf, rt)
    assert not (cache_dir / "results" / "net-ctr-eth0").exists()


def test_sticky_world_writable_cache_dir_is_used_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A sticky world-writable cache dir (such as one under /tmp) works, with a warning logged
    once per directory and process rather than on every call."""
    cache_dir = tmp_path / "sticky-cache"
    cache_dir.mkdir()
    cache_dir.chmod(0o1777)
    cni = pycni.CNIConfig(
        path=["/fake"], cache_dir=cache_dir, executor=InProcessExecutor({"*": ok_handler})
    )
    conf = _conf("net", "p")
    rt = pycni.RuntimeConf("ctr", "/n", "eth0")
    with caplog.at_level(logging.WARNING, logger="pycni.cache"):
        cni.add_network_list(conf, rt)
        cni.check_network_list(conf, rt)
        cni.del_network_list(conf, rt)
    warnings = [r for r in caplog.records if "world-writable" in r.getMessage()]
    assert len(warnings) == 1 and str(cache_dir) in warnings[0].getMessage()


def test_locks_dir_symlink_is_refused(tmp_path: Path) -> None:
    """A symlink planted at ``results/.locks`` is refused; its target is untouched."""
    cache_dir = tmp_path / "cache"
    (cache_dir / "results").mkdir(parents=True, mode=0o700)
    target = tmp_path / "elsewhere"
    target.mkdir()
    (cache_dir / "results" / ".locks").symlink_to(target)
    cni = pycni.CNIConfig(
        path=["/fake"], cache_dir=cache_dir, executor=InProcessExecutor({"*": ok_handler})
    )
    with pytest.raises(CacheError, match="lock directory"):
        cni.add_network_list(_conf("net", "p"), pycni.RuntimeConf("ctr", "/n", "eth0"))
    assert list(target.iterdir()) == []


def _plant_lock_symlinks(cache_dir: Path, victim: Path) -> None:
    directory = Path(cache.locks_dir(str(cache_dir)))
    (directory / f"att-{cache.entry_name('net', 'ctr', 'eth0')}.lock").symlink_to(victim)
    (directory / "net-net.lock").symlink_to(victim)


def test_lock_file_symlinks_are_not_followed(tmp_path: Path) -> None:
    """Symlinks planted at lock files are never followed: the target is neither created nor
    truncated."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    _plant_lock_symlinks(tmp_path / "cache", victim)
    cni = pycni.CNIConfig(
        path=["/fake"], cache_dir=tmp_path / "cache", executor=InProcessExecutor({})
    )
    with pytest.raises(Exception):  # noqa: B017 - which class is the next test's subject
        cni.add_network_list(_conf("net", "p"), pycni.RuntimeConf("ctr", "/n", "eth0"))
    assert victim.read_text() == "precious"


def test_lock_file_symlink_gives_a_cache_error(tmp_path: Path) -> None:
    """The refusal is a CacheError naming the lock file, for both drivers."""
    _plant_lock_symlinks(tmp_path / "cache", tmp_path / "victim")
    conf = _conf("net", "p")
    rt = pycni.RuntimeConf("ctr", "/n", "eth0")
    cni = pycni.CNIConfig(
        path=["/fake"], cache_dir=tmp_path / "cache", executor=InProcessExecutor({})
    )
    with pytest.raises(CacheError, match="symlink") as info:
        cni.add_network_list(conf, rt)
    assert info.value.path is not None and ".locks" in info.value.path
    asyn = pycni.AsyncCNIConfig(
        path=["/fake"], cache_dir=tmp_path / "cache", executor=AsyncInProcessExecutor({})
    )
    with pytest.raises(CacheError, match="symlink"):
        asyncio.run(asyn.add_network_list(conf, rt))


def test_hard_link_at_a_cache_path_leaves_its_target_alone(tmp_path: Path) -> None:
    """A hard link planted at a cache file path (same file system) is replaced on write and
    unlinked on DEL; the linked file's content never changes."""
    cache_dir = tmp_path / "cache"
    results = cache_dir / "results"
    results.mkdir(parents=True, mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.link(victim, results / "net-ctr-eth0")
    cni = pycni.CNIConfig(
        path=["/fake"], cache_dir=cache_dir, executor=InProcessExecutor({"*": ok_handler})
    )
    conf = _conf("net", "p")
    rt = pycni.RuntimeConf("ctr", "/n", "eth0")
    cni.del_network_list(conf, rt)  # a corrupt entry never blocks DEL
    assert victim.read_text() == "precious" and victim.stat().st_nlink == 1
    os.link(victim, results / "net-ctr-eth0")
    cni.add_network_list(conf, rt)
    assert victim.read_text() == "precious"
    assert (results / "net-ctr-eth0").read_bytes() != b"precious"


def test_symlinked_entries_are_not_listed_or_followed_by_gc(tmp_path: Path) -> None:
    """GC lists the cache without following a symlinked entry: a cache envelope outside the
    cache dir, reachable only through a symlink, is never DELeted."""
    outside = tmp_path / "outside-envelope"
    rt = pycni.RuntimeConf("ctr", "/n", "eth0")
    outside.write_bytes(cache.encode_entry(b"{}", "net", rt, None))
    results = tmp_path / "cache" / "results"
    results.mkdir(parents=True, mode=0o700)
    (results / "net-ctr-eth0").symlink_to(outside)
    executor = InProcessExecutor({"*": ok_handler})
    cni = pycni.CNIConfig(path=["/fake"], cache_dir=tmp_path / "cache", executor=executor)
    assert cni.get_cached_attachments() == []
    cni.gc_network_list(_conf("net", "p"), pycni.GCArgs([]))
    assert outside.exists()
    assert executor.calls == 1  # the plugin's own GC, no DEL


def test_another_user_cannot_read_the_cache() -> None:
    """Another (unprivileged) user can neither list nor read the cache; a world-readable control
    file next to it shows the probe itself can read."""
    import shutil
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("running the probe as another user needs root")
    base = Path(tempfile.mkdtemp(prefix="pycni-perm-"))
    try:
        base.chmod(0o755)
        control = base / "control"
        control.write_text("public")
        control.chmod(0o644)
        cache_dir = base / "cache"
        cni = pycni.CNIConfig(
            path=["/fake"], cache_dir=cache_dir, executor=InProcessExecutor({"*": ok_handler})
        )
        cni.add_network_list(_conf("net", "p"), pycni.RuntimeConf("ctr", "/n", "eth0"))
        entry = cache_dir / "results" / "net-ctr-eth0"
        probe = (
            'for p; do if [ -d "$p" ]; then ls "$p" >/dev/null 2>&1 && echo readable || '
            'echo denied; else cat "$p" >/dev/null 2>&1 && echo readable || echo denied; fi; done'
        )
        out = subprocess.run(
            ["/bin/sh", "-c", probe, "probe", str(control), str(cache_dir), str(entry)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            user=65534,
            group=65534,
            extra_groups=[],
        )
        assert out.stdout.split() == ["readable", "denied", "denied"]
    finally:
        shutil.rmtree(base)
