"""The result cache, byte-compatible with libcni's.

Layout and format are libcni's exactly, so an attachment added by pycni can be checked and deleted
by a libcni-based tool and the other way round::

    <cache_dir>/results/<network>-<containerID>-<ifname>      (dir 0700, file 0600)
    {"kind": "cniCacheV1", "containerId": ..., "config": <base64 of the config bytes>,
     "ifName": ..., "networkName": ..., "netns"?: ..., "cniArgs"?: [[k, v]],
     "capabilityArgs"?: {...}, "result"?: {...}}

Where libcni is weak pycni is stricter: names are validated before they become paths, writes are
atomic (temporary file in the same directory, fsync, rename), and no symlink is ever followed inside
``results`` (files are opened relative to a directory descriptor with ``O_NOFOLLOW``).

The envelope (de)serialisation functions are pure; the file functions do the I/O.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import logging
import os
import secrets
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from . import _json
from ._dirs import make_dirs
from .errors import CacheError, ErrorCode, PycniError, ValidationError
from .runtime_conf import NetworkAttachment, RuntimeConf
from .validate import validate_container_id, validate_interface_name, validate_network_name

logger = logging.getLogger("pycni.cache")

#: libcni's default cache directory.
DEFAULT_CACHE_DIR = "/var/lib/cni"
#: The ``kind`` of a libcni cache envelope.
CACHE_KIND = "cniCacheV1"
#: Sub-directory of the cache dir holding result files.
RESULTS_DIR = "results"
#: Sub-directory of ``results`` holding pycni's lock files (libcni skips directories there).
LOCKS_DIR = ".locks"
#: Refuse to read cache files larger than this (a cached result is a few KiB).
MAX_CACHE_FILE = 16 * 1024 * 1024

_TMP_PREFIX = ".pycni-tmp-"


def resolve_cache_dir(config_cache_dir: str | None, rt: RuntimeConf | None = None) -> str:
    """libcni's precedence: the ``CNIConfig`` cache dir, then ``rt.cache_dir``, then the default."""
    if config_cache_dir:
        return config_cache_dir
    if rt is not None and rt.cache_dir:
        return rt.cache_dir
    return DEFAULT_CACHE_DIR


#: Longest cache file name: NAME_MAX (255) less room for the temporary-file prefix and suffix.
MAX_ENTRY_NAME = 230


def entry_name(network: str, container_id: str, ifname: str) -> str:
    """The cache file name ``<network>-<containerID>-<ifname>``, validated so it is a plain name.

    Empty parts give libcni's error; invalid parts give the :class:`ValidationError` of that part;
    a name too long for a file name is refused here, before any plugin runs (libcni would run
    every plugin's ADD and then fail to write the cache, leaving the attachment behind).
    """
    if not network or not container_id or not ifname:
        raise CacheError(
            f'cache file path requires network name ("{network}"), container ID '
            f'("{container_id}"), and interface name ("{ifname}")'
        )
    validate_network_name(network)
    validate_container_id(container_id)
    validate_interface_name(ifname)
    name = f"{network}-{container_id}-{ifname}"
    if len(name.encode()) > MAX_ENTRY_NAME:
        raise ValidationError(
            ErrorCode.INVALID_ENVIRONMENT_VARIABLES,
            "attachment name too long",
            f"{len(name.encode())} bytes in <network>-<containerID>-<ifname>; at most "
            f"{MAX_ENTRY_NAME} fit a cache file name",
            field="containerID",
        )
    return name


def entry_path(cache_dir: str, network: str, container_id: str, ifname: str) -> str:
    """The full path of an attachment's cache file."""
    return os.path.join(cache_dir, RESULTS_DIR, entry_name(network, container_id, ifname))


# ------------------------------------------------------------------------------------------
# Envelope (pure)
# ------------------------------------------------------------------------------------------


#: Envelope key pycni adds to the entry of an ADD that failed part-way (libcni ignores it); its
#: value is the number of plugins whose ADD succeeded.
PARTIAL_KEY = "pycniPartial"


def encode_entry(
    config: bytes,
    network: str,
    rt: RuntimeConf,
    result: dict[str, Any] | None,
    *,
    partial: int | None = None,
) -> bytes:
    """The envelope bytes libcni writes after a successful ADD (omit-empty rules included).

    Args:
        config: The network configuration bytes the ADD used.
        network: The network name.
        rt: The attachment and the arguments it was added with.
        result: The result to cache (JSON-ready), or ``None``.
        partial: The ADD failed part-way: how many plugins succeeded, whose result ``result``
            is (pycni, not libcni: the DEL that follows gets it as ``prevResult``).

    Returns:
        The envelope as compact JSON.
    """
    doc: dict[str, Any] = {
        "kind": CACHE_KIND,
        "containerId": rt.container_id,
        "config": base64.b64encode(config).decode("ascii"),
        "ifName": rt.ifname,
        "networkName": network,
    }
    if rt.netns:
        doc["netns"] = rt.netns
    if rt.args:
        doc["cniArgs"] = [list(pair) for pair in rt.args]
    if rt.capability_args:
        doc["capabilityArgs"] = dict(rt.capability_args)
    if result is not None:
        doc["result"] = result
    if partial is not None:
        doc[PARTIAL_KEY] = partial
    return _json.dumps_sorted(doc)


def _envelope(data: bytes) -> dict[str, Any] | None:
    """The parsed envelope, or ``None`` when the bytes are not a ``cniCacheV1`` envelope."""
    try:
        doc = _json.loads(data)
    except _json.JSONError:
        return None
    if isinstance(doc, dict) and doc.get("kind") == CACHE_KIND:
        return doc
    return None


def decode_cached_result(data: bytes, version: str) -> Any:
    """The cached result converted to ``version`` (libcni ``GetNetworkListCachedResult``).

    The first item of :func:`decode_cached_entry`; see there.
    """
    return decode_cached_entry(data, version)[0]


def _partial_count(doc: dict[str, Any]) -> int | None:
    count = doc.get(PARTIAL_KEY)
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count
    return None


def decode_cached_entry(data: bytes, version: str) -> tuple[Any, int | None]:
    """The cached result converted to ``version``, and for the entry of an ADD that failed
    part-way the number of plugins that succeeded (``None`` for a complete entry); the file is
    parsed once.

    A file that is not an envelope is read as a legacy raw result, and so is an envelope Go
    cannot decode into libcni's typed cache struct (a field of the wrong JSON type, such as
    ``"result": "x"`` or ``"config": "%%%"``): libcni then reads the whole file as an old-style
    result, which holds nothing, so CHECK and DEL get ``{"cniVersion": <version>}`` as
    ``prevResult``. Raises :class:`PycniError` subclasses with libcni's messages (the caller adds
    ``failed to get network ... cached result``). Returns a :class:`pycni.types.Result` and the
    count.
    """
    from .errors import go_quote
    from .types import create_result
    from .version import decode_config_version

    doc = _envelope(data)
    partial = None if doc is None else _partial_count(doc)
    if doc is not None and _cache_struct_problem(doc) is not None:
        doc = None
    raw: Any
    if doc is None:
        result_version = decode_config_version(data)
        raw = data
    else:
        raw = doc.get("result")
        if raw is None:
            result_version = "0.1.0"
        else:  # a dict: _cache_struct_problem checked it
            version_field = raw.get("cniVersion")
            result_version = (
                version_field if isinstance(version_field, str) and version_field else "0.1.0"
            )
    result = create_result(result_version, raw)
    try:
        return result.convert_to(version), partial
    except PycniError as exc:
        raise CacheError(
            f"failed to convert cached result to config version {go_quote(version)}: {exc}"
        ) from exc


def decode_cached_config(data: bytes, network: str, rt: RuntimeConf) -> tuple[bytes, RuntimeConf]:
    """The cached config bytes and ``rt`` with cached ``args``/``capability_args`` restored."""
    try:
        doc = _json.loads(data)
    except _json.JSONError as exc:
        raise CacheError(f'failed to unmarshal cached network "{network}" config: {exc}') from exc
    problem = (
        _cache_struct_problem(doc)
        if isinstance(doc, dict)
        else f"json: cannot unmarshal {_json.json_kind(doc)} into Go value of type libcni.cachedInfo"
    )
    if problem is not None:
        raise CacheError(f'failed to unmarshal cached network "{network}" config: {problem}')
    kind = doc.get("kind") or ""
    if kind != CACHE_KIND:
        raise CacheError(f'read cached network "{network}" config has wrong kind: {kind}')
    config = _b64(doc.get("config"), network)
    changes: dict[str, Any] = {"capability_args": doc.get("capabilityArgs") or {}}
    if doc.get("cniArgs") is not None:
        changes["args"] = _go_pairs(doc["cniArgs"])
    return config, attrs.evolve(rt, **changes)


def _b64(value: Any, network: str) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, str):
        raise CacheError(f'cached network "{network}" config is not a base64 string')
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CacheError(f'cached network "{network}" config is not valid base64: {exc}') from exc


def decode_attachment(data: bytes, container_id: str = "") -> NetworkAttachment | None:
    """A :class:`NetworkAttachment` from an envelope, or ``None`` when libcni would skip the file.

    libcni's ``GetCachedAttachments`` decodes each file into its typed cache struct and skips the
    file when that fails, so an entry with a field of the wrong JSON type (``"netns": 5``,
    ``"result": "x"``, a ``config`` that is not base64, ...) is skipped here too: GC never runs a
    DEL built from it. ``null`` leaves a field empty, as in Go. Files that are not envelopes,
    entries of another container (when ``container_id`` is given) and entries without an
    interface or network name are skipped as well, and so (unlike libcni) are entries without a
    container ID, which no DEL can be built for.

    Args:
        data: the cache file's bytes.
        container_id: only entries of this container (``""``: every container).

    Returns:
        The attachment, or ``None`` for a skipped file.
    """
    doc = _envelope(data)
    if doc is None or _cache_struct_problem(doc) is not None:
        return None
    cid = doc.get("containerId") or ""
    ifname = doc.get("ifName") or ""
    network = doc.get("networkName") or ""
    if (container_id and cid != container_id) or not cid or not ifname or not network:
        return None
    return NetworkAttachment(
        container_id=cid,
        network=network,
        ifname=ifname,
        config=_b64(doc.get("config"), network),
        netns=doc.get("netns") or "",
        cni_args=_go_pairs(doc.get("cniArgs")),
        capability_args=doc.get("capabilityArgs") or {},
    )


#: The envelope's fields as libcni's cache struct types them (JSON key -> Go type).
_CACHE_STRUCT = {
    "kind": "string",
    "containerId": "string",
    "config": "[]uint8",
    "ifName": "string",
    "networkName": "string",
    "netns": "string",
    "cniArgs": "[][2]string",
    "capabilityArgs": "map[string]interface {}",
    "result": "map[string]interface {}",
}


def _go_pairs(value: Any) -> tuple[tuple[str, str], ...]:
    """``cniArgs`` as Go fills a ``[][2]string``: missing elements empty, extra ones dropped."""
    pairs = []
    for pair in value or []:
        items = [x or "" for x in list(pair or [])[:2]]
        items += [""] * (2 - len(items))
        pairs.append((items[0], items[1]))
    return tuple(pairs)


def _cache_struct_problem(doc: dict[str, Any]) -> str | None:
    """Why Go's ``json.Unmarshal`` into libcni's cache struct fails for ``doc``, or ``None``.

    Go reports the first mismatch in document order; ``null`` always decodes (the field stays
    empty), and keys the struct lacks are ignored.
    """

    def mismatch(kind: str, key: str, go_type: str) -> str:
        return (
            f"json: cannot unmarshal {kind} into Go struct field cachedInfo.{key} of type {go_type}"
        )

    for key, value in doc.items():
        go_type = _CACHE_STRUCT.get(key)
        if go_type is None or value is None:
            continue
        if go_type in ("string", "[]uint8"):
            if not isinstance(value, str):
                return mismatch(_json.json_kind(value), key, go_type)
            if go_type == "[]uint8":
                try:
                    base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    return f"illegal base64 data in cachedInfo.{key}"
        elif go_type == "[][2]string":
            if not isinstance(value, list):
                return mismatch(_json.json_kind(value), key, go_type)
            for pair in value:
                if pair is not None and not isinstance(pair, list):
                    return mismatch(_json.json_kind(pair), key, "[2]string")
                # elements past the second are discarded unread, as Go fills a [2]string
                for item in (pair or [])[:2]:
                    if item is not None and not isinstance(item, str):
                        return mismatch(_json.json_kind(item), key, "string")
        elif not isinstance(value, dict):
            return mismatch(_json.json_kind(value), key, go_type)
    return None


# ------------------------------------------------------------------------------------------
# Files (I/O)
# ------------------------------------------------------------------------------------------

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_warned_sticky: set[str] = set()


def _check_permissions(path: str, mode: int) -> None:
    """Refuse a world-writable directory without the sticky bit; warn (once) about one with it.

    Anyone who can write to the cache dir or ``results`` can plant, replace or rename entries, and
    GC acts on what it finds there (it DELs listed attachments with their cached netns and args).
    With the sticky bit others cannot touch our entries, only add their own: worth a warning.
    """
    if not mode & stat.S_IWOTH:
        return
    if not mode & stat.S_ISVTX:
        raise CacheError(
            f"cache directory {path} is world-writable (mode {stat.S_IMODE(mode):04o}); refusing "
            f"to use it, since any local user could plant or replace cache entries "
            f"(fix: chmod o-w {path})",
            path=path,
        )
    if path not in _warned_sticky:
        _warned_sticky.add(path)
        logger.warning(
            "cache directory %s is world-writable (mode %04o, sticky): other users can add "
            "entries there; use a directory only root can write",
            path,
            stat.S_IMODE(mode),
        )


def _open_results(path: str, create: bool) -> int | None:
    """Open ``results`` without following a symlink; create it (0700) only when it is missing."""
    for attempt in (1, 2):
        try:
            return os.open(path, _DIR_FLAGS)
        except FileNotFoundError:
            if not create:
                return None
            if attempt == 2:
                raise CacheError(f"cache directory {path} vanished", path=path) from None
            try:
                make_dirs(os.path.dirname(path), 0o700)
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
            except OSError as exc:
                raise CacheError(
                    f"cannot create cache directory {path}: {exc.strerror}", path=path
                ) from exc
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise CacheError(
                    f"cache directory {path} is not a directory (or is a symlink); refusing to use it",
                    path=path,
                ) from exc
            raise CacheError(
                f"cannot open cache directory {path}: {exc.strerror}", path=path
            ) from exc
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def _results_dir(cache_dir: str, *, create: bool) -> Iterator[int | None]:
    """A descriptor of ``<cache_dir>/results`` (created 0700 when asked), never through a symlink;
    a world-writable cache dir or ``results`` is refused (see :func:`_check_permissions`)."""
    path = os.path.join(cache_dir, RESULTS_DIR)
    fd = _open_results(path, create)
    if fd is None:
        yield None
        return
    try:
        try:
            modes = (os.stat(cache_dir).st_mode, os.fstat(fd).st_mode)
        except OSError as exc:
            raise CacheError(
                f"cannot stat cache directory {path}: {exc.strerror}", path=path
            ) from exc
        _check_permissions(cache_dir, modes[0])
        _check_permissions(path, modes[1])
        yield fd
    finally:
        os.close(fd)


def read_entry(cache_dir: str, name: str) -> bytes | None:
    """The bytes of a cache file, or ``None`` when it does not exist (or is unreadable, as libcni)."""
    with _results_dir(cache_dir, create=False) as dfd:
        if dfd is None:
            return None
        return _read_at(dfd, name, os.path.join(cache_dir, RESULTS_DIR, name))


def _read_at(dfd: int, name: str, path: str) -> bytes | None:
    try:
        # O_NONBLOCK: a FIFO planted at a cache path must not hang DEL, CHECK or GC.
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dfd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CacheError(
                f"cache file {path} is a symlink; refusing to follow it", path=path
            ) from exc
        if exc.errno in (errno.EISDIR, errno.EACCES, errno.EPERM):
            return None
        raise CacheError(f"cannot read cache file {path}: {exc.strerror}", path=path) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > MAX_CACHE_FILE:
            raise CacheError(f"cache file {path} is larger than {MAX_CACHE_FILE} bytes", path=path)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    except IsADirectoryError:
        return None
    finally:
        os.close(fd)


def write_entry(cache_dir: str, name: str, data: bytes) -> None:
    """Atomically replace a cache file: temporary file 0600 in ``results``, fsync, rename."""
    with _results_dir(cache_dir, create=True) as dfd:
        assert dfd is not None
        tmp = f"{_TMP_PREFIX}{name}-{secrets.token_hex(4)}"
        path = os.path.join(cache_dir, RESULTS_DIR, name)
        try:
            fd = os.open(
                tmp,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
                dir_fd=dfd,
            )
        except OSError as exc:
            raise CacheError(f"cannot write cache file {path}: {exc.strerror}", path=path) from exc
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except OSError as exc:
            _unlink_quietly(dfd, tmp)
            raise CacheError(f"cannot write cache file {path}: {exc.strerror}", path=path) from exc


def delete_entry(cache_dir: str, name: str) -> None:
    """Remove a cache file (a symlink is removed itself, never followed); missing is fine."""
    with _results_dir(cache_dir, create=False) as dfd:
        if dfd is not None:
            _unlink_quietly(dfd, name)


def _unlink_quietly(dfd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dfd)
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.warning("could not remove cache file %s: %s", name, exc.strerror)


def list_attachments(cache_dir: str, container_id: str = "") -> list[NetworkAttachment]:
    """Every attachment cached in ``cache_dir`` (libcni ``GetCachedAttachments``).

    Files are visited in name order; with a ``container_id`` only names containing
    ``-<containerID>-`` (not at the start or end) are read. Unreadable, non-envelope and
    incomplete files are skipped, as libcni skips them.
    """
    with _results_dir(cache_dir, create=False) as dfd:
        if dfd is None:
            return []
        try:
            names = sorted(os.listdir(dfd))
        except OSError as exc:
            raise CacheError(
                f"cannot list cache directory {cache_dir}/{RESULTS_DIR}: {exc.strerror}"
            ) from exc
        needle = f"-{container_id}-"
        found = []
        for name in names:
            if name.startswith(_TMP_PREFIX):
                _remove_if_stale(dfd, name)
                continue
            if name == LOCKS_DIR:
                continue
            if container_id:
                pos = name.find(needle)
                if pos <= 0 or pos + len(needle) >= len(name):
                    continue
            try:
                data = _read_at(dfd, name, name)
            except CacheError:
                continue
            attachment = decode_attachment(data, container_id) if data is not None else None
            if attachment is not None:
                found.append(attachment)
        return found


#: A temporary cache file older than this was left by a crashed writer (a write takes ms).
STALE_TMP_SECONDS = 300.0


def _remove_if_stale(dfd: int, name: str) -> None:
    """Remove a temporary file a crashed writer left between create and rename."""
    try:
        info = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except OSError:
        return
    if time.time() - info.st_mtime > STALE_TMP_SECONDS:
        _unlink_quietly(dfd, name)


def locks_dir(cache_dir: str) -> str:
    """The directory holding pycni's lock files (created 0700, refused when it is a symlink)."""
    with _results_dir(cache_dir, create=True) as dfd:
        try:
            info = os.stat(LOCKS_DIR, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                os.mkdir(LOCKS_DIR, 0o700, dir_fd=dfd)
            info = os.stat(LOCKS_DIR, dir_fd=dfd, follow_symlinks=False)
        if not stat.S_ISDIR(info.st_mode):
            raise CacheError(
                f"lock directory {cache_dir}/{RESULTS_DIR}/{LOCKS_DIR} is not a directory"
            )
    return os.path.join(cache_dir, RESULTS_DIR, LOCKS_DIR)
