"""Configuration directories: conf_files, load_conf, load_conf_list, scan_conf_dir."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import pycni.config
from pycni.config import (
    NetworkConfig,
    NetworkConfigList,
    conf_files,
    load_conf,
    load_conf_list,
    plugin_confs_from_files,
    scan_conf_dir,
)
from pycni.errors import ConfigError, NoConfigsFoundError, NotFoundError

WHATEVER_CONF = b'{ "name": "some-plugin", "type": "foobar", "some-key": "some-value" }'
WHATEVER_LIST = {
    "name": "some-network",
    "cniVersion": "0.2.0",
    "disableCheck": True,
    "plugins": [
        {"type": "host-local", "subnet": "10.0.0.1/24"},
        {"type": "bridge", "mtu": 1400},
        {"type": "port-forwarding", "ports": {"20.0.0.1:8080": "80"}},
    ],
}


def _write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    return path


# --------------------------------------------------------------------------------------------
# conf_files
# --------------------------------------------------------------------------------------------


def test_conf_files_filters_and_sorts(tmp_path: Path) -> None:
    """Reference 2.2 item 11 and 11 item 26: exact extensions, byte-wise order, dirs skipped."""
    for name in [
        "b.conf",
        "a.json",
        "c.conflist",
        "D.CONF",
        ".conf",
        "x.conf.bak",
        "noext",
        "é.conf",
    ]:
        (tmp_path / name).write_text("{}")
    (tmp_path / "dir.conf").mkdir()
    (tmp_path / "Z.conf").write_text("{}")
    found = conf_files(tmp_path, [".conf", ".json"])
    names = [os.path.basename(p) for p in found]
    assert names == [".conf", "Z.conf", "a.json", "b.conf", "é.conf"]
    assert found[0] == os.path.join(str(tmp_path), ".conf")


def test_conf_files_includes_symlinks(tmp_path: Path) -> None:
    """Reference 2.2 item 11: symlinks are listed, even to directories (they fail on read)."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link.conf").symlink_to(tmp_path / "real")
    (tmp_path / "dangling.conf").symlink_to(tmp_path / "missing")
    names = [os.path.basename(p) for p in conf_files(tmp_path, [".conf"])]
    assert names == ["dangling.conf", "link.conf"]


def test_conf_files_missing_dir(tmp_path: Path) -> None:
    """Reference 2.2 item 11: a missing directory is no files and no error."""
    assert conf_files(tmp_path / "missing", [".conf"]) == []


def test_conf_files_not_a_directory(tmp_path: Path) -> None:
    """Reference 2.2 item 11: listing a regular file is an error naming it."""
    path = _write(tmp_path / "file", b"{}")
    with pytest.raises(ConfigError) as info:
        conf_files(path, [".conf"])
    assert "not a directory" in info.value.message
    assert info.value.path == str(path)


def test_plugin_confs_from_files(tmp_path: Path) -> None:
    """Reference 2.2 item 10: only <dir>/<name>/*.conf, in name order; missing dir gives []."""
    _write(tmp_path / "net" / "2.conf", {"type": "b"})
    _write(tmp_path / "net" / "1.conf", {"type": "a"})
    _write(tmp_path / "net" / "3.json", {"type": "c"})
    assert [p.type for p in plugin_confs_from_files(tmp_path, "net")] == ["a", "b"]
    assert plugin_confs_from_files(tmp_path, "other") == []


# --------------------------------------------------------------------------------------------
# load_conf
# --------------------------------------------------------------------------------------------


def test_load_conf_finds_conf(tmp_path: Path) -> None:
    """Reference 7.3 item 57 and 2.2 item 12: the matching .conf file, bytes unchanged."""
    path = _write(tmp_path / "50-whatever.conf", WHATEVER_CONF)
    conf = load_conf(tmp_path, "some-plugin")
    assert (conf.name, conf.type) == ("some-plugin", "foobar")
    assert conf.bytes == WHATEVER_CONF
    assert conf.path == str(path)


def test_load_conf_json_extension(tmp_path: Path) -> None:
    """Reference 7.3 item 57: a .json file works the same."""
    _write(tmp_path / "50-whatever.json", WHATEVER_CONF)
    assert load_conf(tmp_path, "some-plugin").type == "foobar"


def test_load_conf_missing_dir(tmp_path: Path) -> None:
    """Reference 7.3 item 57 and 2.1 item 5: a missing directory is NoConfigsFoundError{dir}."""
    missing = str(tmp_path / "missing")
    with pytest.raises(NoConfigsFoundError) as info:
        load_conf(missing, "some-plugin")
    assert info.value == NoConfigsFoundError(missing)
    assert str(info.value) == f"no net configurations found in {missing}"


def test_load_conf_unknown_name(tmp_path: Path) -> None:
    """Reference 7.3 item 57 and 2.1 item 5: an unknown name is NotFoundError{dir, name}."""
    _write(tmp_path / "50-whatever.conf", WHATEVER_CONF)
    with pytest.raises(NotFoundError) as info:
        load_conf(tmp_path, "some-other-plugin")
    assert info.value == NotFoundError(str(tmp_path), "some-other-plugin")
    assert 'no net configuration with name "some-other-plugin" in' in str(info.value)


def test_load_conf_bad_file_aborts(tmp_path: Path) -> None:
    """Reference 7.3 item 57 and 2.2 item 12: a bad earlier file aborts the whole lookup."""
    _write(tmp_path / "50-whatever.conf", WHATEVER_CONF)
    _write(tmp_path / "00-bad.conf", b"{")
    with pytest.raises(ConfigError) as info:
        load_conf(tmp_path, "some-plugin")
    assert info.value.message == "error parsing configuration: unexpected end of JSON input"
    assert info.value.path == str(tmp_path / "00-bad.conf")


def test_load_conf_does_not_search_subdirs(tmp_path: Path) -> None:
    """Reference 7.3 item 57: a config only in a nested sub-directory is not found."""
    _write(tmp_path / "subdir1" / "subdir2" / "90-deep.conf", WHATEVER_CONF)
    _write(tmp_path / "10-other.conf", {"name": "other", "type": "x"})
    with pytest.raises(NotFoundError, match=r"^no net configuration with name"):
        load_conf(tmp_path, "some-plugin")


def test_load_conf_first_match_in_path_order(tmp_path: Path) -> None:
    """Reference 2.2 item 12: the first matching file in byte-wise path order wins."""
    _write(tmp_path / "20-b.json", {"name": "n", "type": "second"})
    _write(tmp_path / "10-a.conf", {"name": "n", "type": "first"})
    assert load_conf(tmp_path, "n").type == "first"


# --------------------------------------------------------------------------------------------
# load_conf_list
# --------------------------------------------------------------------------------------------


def test_load_conf_list_conflist(tmp_path: Path) -> None:
    """Reference 7.3 item 60: the conflist with sorted-key plugin bytes and file bytes."""
    path = _write(tmp_path / "50-whatever.conflist", WHATEVER_LIST)
    conf = load_conf_list(tmp_path, "some-network")
    assert conf.bytes == path.read_bytes()
    assert conf.cni_version == "0.2.0"
    assert conf.disable_check is True
    assert [p.bytes for p in conf.plugins] == [
        b'{"subnet":"10.0.0.1/24","type":"host-local"}',
        b'{"mtu":1400,"type":"bridge"}',
        b'{"ports":{"20.0.0.1:8080":"80"},"type":"port-forwarding"}',
    ]


def test_conflist_beats_conf(tmp_path: Path) -> None:
    """Reference 7.3 item 61 and 2.2 item 13.4: a conflist beats a .conf of the same name."""
    _write(tmp_path / "50-whatever.conflist", WHATEVER_LIST)
    _write(tmp_path / "49-whatever.conf", {"name": "some-network", "type": "bridge"})
    assert len(load_conf_list(tmp_path, "some-network").plugins) == 3
    (tmp_path / "50-whatever.conflist").unlink()
    conf = load_conf_list(tmp_path, "some-network")
    assert [p.type for p in conf.plugins] == ["bridge"]
    assert conf.path == str(tmp_path / "49-whatever.conf")


def test_conf_fallback_is_converted(tmp_path: Path) -> None:
    """Reference 2.2 item 13.3: the .conf fallback is wrapped like conf_list_from_conf."""
    _write(tmp_path / "10-x.conf", {"name": "x", "cniVersion": "0.4.0", "type": "bridge"})
    _write(tmp_path / "x" / "extra.conf", {"type": "not-added"})
    conf = load_conf_list(tmp_path, "x")
    assert (conf.name, conf.cni_version) == ("x", "0.4.0")
    assert [p.type for p in conf.plugins] == ["bridge"]
    assert json.loads(conf.bytes)["plugins"] == [
        {"name": "x", "cniVersion": "0.4.0", "type": "bridge"}
    ]


def test_load_conf_list_missing_dir(tmp_path: Path) -> None:
    """Reference 7.3 item 62 and 2.2 item 13.5: a missing directory is NoConfigsFoundError."""
    missing = str(tmp_path / "missing")
    with pytest.raises(NoConfigsFoundError) as info:
        load_conf_list(missing, "n")
    assert info.value == NoConfigsFoundError(missing)


def test_load_conf_list_unknown_name(tmp_path: Path) -> None:
    """Reference 7.3 item 62 and 2.2 item 13.3: conflists but no match -> NotFoundError."""
    _write(tmp_path / "50-whatever.conflist", WHATEVER_LIST)
    with pytest.raises(NotFoundError) as info:
        load_conf_list(tmp_path, "some-other-network")
    assert info.value == NotFoundError(str(tmp_path), "some-other-network")


def test_load_conf_list_unknown_name_with_confs(tmp_path: Path) -> None:
    """Reference 2.2 item 13.3: .conf files exist but none matches -> NotFoundError."""
    _write(tmp_path / "10-x.conf", {"name": "x", "type": "bridge"})
    with pytest.raises(NotFoundError):
        load_conf_list(tmp_path, "y")


def test_load_conf_list_empty_dir(tmp_path: Path) -> None:
    """Reference 2.2 item 13.3: an empty directory is NoConfigsFoundError."""
    with pytest.raises(NoConfigsFoundError):
        load_conf_list(tmp_path, "y")


def test_bad_conflist_aborts_every_lookup(tmp_path: Path) -> None:
    """Reference 7.3 item 62 and 11 item 26: one malformed conflist breaks every lookup."""
    _write(tmp_path / "50-whatever.conflist", WHATEVER_LIST)
    _write(tmp_path / "00-bad.conflist", b"{")
    with pytest.raises(ConfigError) as info:
        load_conf_list(tmp_path, "some-network")
    assert info.value.message == "error parsing configuration list: unexpected end of JSON input"
    assert info.value.path == str(tmp_path / "00-bad.conflist")


def test_bad_conf_aborts_fallback(tmp_path: Path) -> None:
    """Reference 2.2 item 12: a malformed .conf breaks .conf fallback lookups."""
    _write(tmp_path / "10-x.conf", {"name": "x", "type": "bridge"})
    _write(tmp_path / "00-bad.conf", b'{"name":"bad"}')
    with pytest.raises(ConfigError, match="missing 'type'"):
        load_conf_list(tmp_path, "x")


def test_nested_conflist_not_found(tmp_path: Path) -> None:
    """Reference 7.3 item 62: a conflist in a nested sub-directory is not found."""
    _write(tmp_path / "subdir1" / "subdir2" / "90-deep.conflist", WHATEVER_LIST)
    with pytest.raises(ConfigError, match=r"^no net configuration"):
        load_conf_list(tmp_path, "some-network")


def test_conflist_without_plugins_breaks_lookup(tmp_path: Path) -> None:
    """Reference 11 item 26: a plugin-less conflist raises during the scan of another name."""
    _write(tmp_path / "00-empty.conflist", {"name": "empty"})
    _write(tmp_path / "50-whatever.conflist", WHATEVER_LIST)
    with pytest.raises(ConfigError, match=r"^no plugin configs found"):
        load_conf_list(tmp_path, "some-network")


def test_regular_file_named_like_network_breaks_lookup(tmp_path: Path) -> None:
    """Reference 11 item 26: a regular file named like the network breaks its loading."""
    _write(tmp_path / "50-whatever.conflist", WHATEVER_LIST)
    (tmp_path / "some-network").write_text("x")
    with pytest.raises(ConfigError, match=r"^failed to read plugin config files in"):
        load_conf_list(tmp_path, "some-network")


def test_subdir_plugins_in_lookup(tmp_path: Path) -> None:
    """Reference 11 item 27: directory lookup aggregates <dir>/<name>/*.conf after inline ones."""
    _write(tmp_path / "50-whatever.conflist", WHATEVER_LIST)
    _write(tmp_path / "some-network" / "99-tuning.conf", {"type": "tuning"})
    conf = load_conf_list(tmp_path, "some-network")
    assert [p.type for p in conf.plugins][-2:] == ["port-forwarding", "tuning"]


def test_upper_case_extension_ignored(tmp_path: Path) -> None:
    """Reference 11 item 26: extensions are case-sensitive (`.CONFLIST` is ignored)."""
    _write(tmp_path / "50-whatever.CONFLIST", WHATEVER_LIST)
    with pytest.raises(NoConfigsFoundError):
        load_conf_list(tmp_path, "some-network")


def test_file_named_dot_conf_is_loaded(tmp_path: Path) -> None:
    """Reference 11 item 26: a hidden file named exactly `.conf` counts."""
    _write(tmp_path / ".conf", {"name": "hidden", "type": "bridge"})
    assert load_conf_list(tmp_path, "hidden").plugins[0].type == "bridge"


def test_byte_wise_order(tmp_path: Path) -> None:
    """Reference 11 item 26: files are tried in byte-wise order (`Z` before `a`)."""
    _write(tmp_path / "a.conflist", {"name": "n", "plugins": [{"type": "lower"}]})
    _write(tmp_path / "Z.conflist", {"name": "n", "plugins": [{"type": "upper"}]})
    assert load_conf_list(tmp_path, "n").plugins[0].type == "upper"


# --------------------------------------------------------------------------------------------
# Filesystem edge cases: always a ConfigError naming the file
# --------------------------------------------------------------------------------------------


def test_directory_named_conf_is_skipped(tmp_path: Path) -> None:
    """Reference 2.2 item 11: a directory named `x.conflist` is not a config file."""
    (tmp_path / "00-dir.conflist").mkdir()
    _write(tmp_path / "50-whatever.conflist", WHATEVER_LIST)
    assert load_conf_list(tmp_path, "some-network").name == "some-network"


def test_symlink_to_directory(tmp_path: Path) -> None:
    """Reference 2.2 item 11: a symlink to a directory fails on read with a clear error."""
    (tmp_path / "real").mkdir()
    (tmp_path / "00-link.conflist").symlink_to(tmp_path / "real")
    with pytest.raises(ConfigError) as info:
        load_conf_list(tmp_path, "n")
    link = str(tmp_path / "00-link.conflist")
    assert info.value.message == f"error reading {link}: read {link}: is a directory"
    assert info.value.path == link


def test_symlink_loop(tmp_path: Path) -> None:
    """Symlink loops give `error reading`, never a raw OSError."""
    (tmp_path / "loop.conf").symlink_to(tmp_path / "loop.conf")
    with pytest.raises(ConfigError) as info:
        load_conf(tmp_path, "n")
    assert "too many levels of symbolic links" in info.value.message
    assert info.value.path == str(tmp_path / "loop.conf")


def test_dangling_symlink(tmp_path: Path) -> None:
    """A dangling symlink is `error reading <path>: open <path>: no such file or directory`."""
    (tmp_path / "x.conflist").symlink_to(tmp_path / "missing")
    path = str(tmp_path / "x.conflist")
    with pytest.raises(ConfigError) as info:
        load_conf_list(tmp_path, "n")
    assert info.value.message == f"error reading {path}: open {path}: no such file or directory"


def _as_nobody(func: Callable[[], str]) -> str:
    """Run ``func`` in a forked child that dropped root to ``nobody``; return what it returned."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os.write(write_end, func().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        out = pipe.read().decode()
    os.waitpid(pid, 0)
    return out


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX permissions")
def test_unreadable_file() -> None:
    """An unreadable file is `error reading <path>: open <path>: permission denied`.

    Root reads anything, so as root the check runs in a forked child as user ``nobody``.
    """

    def check() -> str:
        try:
            NetworkConfigList.from_file(path)
        except ConfigError as exc:
            return f"{exc.message}|{len(scan_conf_dir(directory).failures)}"
        return "loaded"

    with tempfile.TemporaryDirectory() as directory:
        os.chmod(directory, 0o755)
        path = _write(Path(directory) / "x.conflist", WHATEVER_LIST)
        path.chmod(0)
        out = _as_nobody(check) if os.geteuid() == 0 else check()
    assert out == f"error reading {path}: open {path}: permission denied|1"


def test_huge_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file over MAX_CONFIG_SIZE is refused with a clear error instead of being read."""
    monkeypatch.setattr(pycni.config, "MAX_CONFIG_SIZE", 64)
    path = _write(tmp_path / "x.conf", {"name": "n", "type": "bridge", "pad": "x" * 100})
    with pytest.raises(ConfigError) as info:
        NetworkConfig.from_file(path)
    assert "larger than 64 bytes" in info.value.message
    assert info.value.path == str(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.timeout(10)
def test_fifo_without_writer_does_not_hang(tmp_path: Path) -> None:
    """A FIFO in a conf dir reads as empty instead of blocking the lookup."""
    os.mkfifo(tmp_path / "00-fifo.conflist")
    with pytest.raises(ConfigError, match="unexpected end of JSON input"):
        load_conf_list(tmp_path, "n")


def test_path_with_nul_byte() -> None:
    """A path with a NUL byte is a ConfigError, not a ValueError."""
    with pytest.raises(ConfigError):
        NetworkConfig.from_file("/tmp/a\0b.conf")
    with pytest.raises(ConfigError):
        load_conf_list("/tmp/a\0b", "n")


# --------------------------------------------------------------------------------------------
# scan_conf_dir
# --------------------------------------------------------------------------------------------


def test_scan_reports_networks_and_failures(tmp_path: Path) -> None:
    """scan_conf_dir lists every network in file order and every broken file with its error."""
    _write(tmp_path / "00-bad.conflist", b"{")
    _write(tmp_path / "10-a.conflist", {"name": "a", "plugins": [{"type": "bridge"}]})
    _write(tmp_path / "20-a.conf", {"name": "a", "type": "macvlan"})
    _write(tmp_path / "30-b.json", {"name": "b", "type": "ipvlan"})
    _write(tmp_path / "40-notype.conf", {"name": "c"})
    scan = scan_conf_dir(tmp_path)
    assert [(n.name, os.path.basename(n.path), n.kind, n.shadowed) for n in scan.networks] == [
        ("a", "10-a.conflist", "conflist", False),
        ("a", "20-a.conf", "conf", True),
        ("b", "30-b.json", "conf", False),
    ]
    assert scan.networks[1].shadowed_by == str(tmp_path / "10-a.conflist")
    assert [os.path.basename(f.path) for f in scan.failures] == [
        "00-bad.conflist",
        "40-notype.conf",
    ]
    assert isinstance(scan.failures[0].error, ConfigError)
    assert "unexpected end of JSON input" in str(scan.failures[0].error)
    assert scan.names == ["a", "b"]


def test_scan_get_applies_precedence_and_skips_broken(tmp_path: Path) -> None:
    """scan.get follows libcni's precedence (.conflist first) but ignores broken files."""
    _write(tmp_path / "00-bad.conflist", b"{")
    _write(tmp_path / "10-net.conf", {"name": "net", "type": "conf-kind"})
    _write(tmp_path / "90-net.conflist", {"name": "net", "plugins": [{"type": "list-kind"}]})
    scan = scan_conf_dir(tmp_path)
    found = scan.get("net")
    assert found is not None
    assert found.plugins[0].type == "list-kind"
    assert scan.get("missing") is None
    with pytest.raises(ConfigError):
        load_conf_list(tmp_path, "net")


def test_scan_conf_fallback_shadowing_in_file_order(tmp_path: Path) -> None:
    """Between .conf/.json files of one name, the first in path order wins."""
    _write(tmp_path / "20-n.json", {"name": "n", "type": "second"})
    _write(tmp_path / "10-n.conf", {"name": "n", "type": "first"})
    scan = scan_conf_dir(tmp_path)
    found = scan.get("n")
    assert found is not None
    assert found.plugins[0].type == "first"
    assert [n.shadowed for n in scan.networks] == [False, True]


def test_scan_subdir_failure_is_recorded(tmp_path: Path) -> None:
    """A conflist whose sub-directory plugin is broken is a failure of that conflist."""
    _write(tmp_path / "10-net.conflist", {"name": "net", "plugins": [{"type": "x"}]})
    _write(tmp_path / "net" / "bad.conf", b"[")
    scan = scan_conf_dir(tmp_path)
    assert scan.networks == ()
    assert scan.failures[0].path == str(tmp_path / "10-net.conflist")
    assert isinstance(scan.failures[0].error, ConfigError)
    assert scan.failures[0].error.path == str(tmp_path / "net" / "bad.conf")


def test_scan_missing_dir(tmp_path: Path) -> None:
    """A missing directory scans as empty."""
    scan = scan_conf_dir(tmp_path / "missing")
    assert (scan.networks, scan.failures) == ((), ())


def test_scan_not_a_directory(tmp_path: Path) -> None:
    """A directory that cannot be listed is one failure naming it."""
    path = _write(tmp_path / "file", b"{}")
    scan = scan_conf_dir(path)
    assert scan.networks == ()
    assert [f.path for f in scan.failures] == [str(path)]


def test_scan_matches_load_conf_list_when_all_files_are_good(tmp_path: Path) -> None:
    """With no broken file, scan.get agrees with load_conf_list for every name."""
    _write(tmp_path / "10-a.conf", {"name": "a", "type": "x"})
    _write(tmp_path / "20-a.conflist", {"name": "a", "plugins": [{"type": "y"}]})
    _write(tmp_path / "30-b.conflist", {"name": "b", "plugins": [{"type": "z"}]})
    _write(tmp_path / "b" / "extra.conf", {"type": "extra"})
    scan = scan_conf_dir(tmp_path)
    for name in ("a", "b"):
        assert scan.get(name) == load_conf_list(tmp_path, name)
