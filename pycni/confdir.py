"""Configuration directories: listing, sub-directory plugins and network lookup (libcni).

:func:`load_conf_list` reproduces libcni's lookup exactly: ``.conflist`` files first, in byte-wise
path order, then ``.conf`` and ``.json`` files; the first file whose ``name`` matches wins, and
any file that fails to load aborts the lookup (even for another network's name), as in libcni.

:func:`scan_conf_dir` is the forgiving alternative for runtimes and diagnostics: it loads every
file, returns every network with its source and whether another file shadows it, and every file
that failed with its error.

The models come from :mod:`pycni.config`, which re-exports this module's names; they are imported
inside the functions so that either module can be imported first.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import attrs

from .errors import ConfigError, NoConfigsFoundError, NotFoundError, PycniError

if TYPE_CHECKING:  # pragma: no cover
    from .config import NetworkConfig, NetworkConfigList

__all__ = [
    "ConfDirScan",
    "ScanFailure",
    "ScannedNetwork",
    "conf_files",
    "load_conf",
    "load_conf_list",
    "plugin_confs_from_files",
    "scan_conf_dir",
]

# --------------------------------------------------------------------------------------------
# Listing a directory and sub-directory plugins
# --------------------------------------------------------------------------------------------


def _os_text(exc: OSError) -> str:
    """An OS error's text as Go prints it (``no such file or directory``)."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _go_ext(name: str) -> str:
    """``filepath.Ext``: from the last dot of the base name (``.conf`` is its own extension)."""
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def conf_files(dir: str | os.PathLike[str], extensions: Sequence[str]) -> list[str]:
    """Paths of the non-directory entries of ``dir`` whose extension is one of ``extensions``.

    libcni ``ConfFiles``: the extension is compared case-sensitively, entries come in byte-wise
    name order, symlinks are included (a link to a directory fails later, when read), and a missing
    directory gives ``[]``. Any other listing failure is a :class:`ConfigError` naming ``dir``.
    """
    name = os.fsdecode(dir)
    try:
        with os.scandir(name) as entries:
            found = []
            for entry in entries:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if not is_dir and _go_ext(entry.name) in extensions:
                    found.append(entry.name)
    except FileNotFoundError:
        return []
    except NotADirectoryError as exc:
        raise ConfigError(f"readdirent {name}: {_os_text(exc)}", path=name) from None
    except OSError as exc:
        raise ConfigError(f"open {name}: {_os_text(exc)}", path=name) from None
    except ValueError as exc:  # embedded NUL or an unencodable name
        raise ConfigError(f"open {name}: {exc}", path=name) from None
    return [os.path.join(name, entry) for entry in sorted(found, key=os.fsencode)]


def _entry_names(directory: str) -> frozenset[str] | None:
    """Every name in ``directory`` (``None`` when it cannot be listed), so that lookups over many
    conflists do not probe ``<dir>/<name>/`` for each network that has no plugin sub-directory."""
    try:
        return frozenset(os.listdir(directory))
    except (OSError, ValueError):
        return None


def _go_join(directory: str, name: str) -> str:
    """``filepath.Join``: join the non-empty parts and clean the result."""
    parts = [p for p in (directory, name) if p]
    return os.path.normpath("/".join(parts)) if parts else ""


def plugin_confs_from_files(
    conf_dir: str | os.PathLike[str], network_name: str
) -> list[NetworkConfig]:
    """The plugins of ``<conf_dir>/<network_name>/*.conf`` in name order (libcni
    ``NetworkPluginConfsFromFiles``).

    Only ``.conf`` files count; a missing directory gives ``[]``. As in libcni the name is joined
    and cleaned like a path, so ``""`` means ``conf_dir`` itself. Unlike libcni, a name with a
    path separator or a ``..``/``.`` component is refused: a conflist must not pull plugin
    configurations from outside its conf dir.
    """
    if "/" in network_name or network_name in (".", ".."):
        raise ConfigError(
            f"network name {network_name!r} cannot name a plugin sub-directory of {conf_dir}",
            field="name",
        )
    plugin_dir = _go_join(os.fsdecode(conf_dir), network_name)
    try:
        files = conf_files(plugin_dir, [".conf"])
    except ConfigError as exc:
        raise ConfigError(
            f"failed to read plugin config files in {plugin_dir}: {exc.message}", path=plugin_dir
        ) from None
    from .config import NetworkConfig

    return [NetworkConfig.from_file(file) for file in files]


# --------------------------------------------------------------------------------------------
# libcni's lookup
# --------------------------------------------------------------------------------------------

_CONF_EXTENSIONS = (".conf", ".json")
_LIST_EXTENSIONS = (".conflist",)


def _sorted_paths(paths: list[str]) -> list[str]:
    """Sort like Go's ``sort.Strings`` (byte-wise, also for undecodable names)."""
    return sorted(paths, key=os.fsencode)


def load_conf(dir: str | os.PathLike[str], name: str) -> NetworkConfig:
    """The first ``.conf``/``.json`` file of ``dir`` whose ``name`` matches (libcni ``LoadConf``).

    Raises :class:`NoConfigsFoundError` when there is no such file at all (or no directory),
    :class:`NotFoundError` when none matches, and the first file's :class:`ConfigError` if any
    file before the match fails to load. Sub-directories are not searched.
    """
    from .config import NetworkConfig

    directory = os.fsdecode(dir)
    files = _sorted_paths(conf_files(directory, _CONF_EXTENSIONS))
    if not files:
        raise NoConfigsFoundError(directory)
    for path in files:
        conf = NetworkConfig.from_file(path)
        if conf.name == name:
            return conf
    raise NotFoundError(directory, name)


def load_conf_list(dir: str | os.PathLike[str], name: str) -> NetworkConfigList:
    """The network ``name`` from ``dir`` (libcni ``LoadConfList`` / ``LoadNetworkConf``).

    ``.conflist`` files are tried first (with sub-directory plugins), then :func:`load_conf`
    wrapped by :func:`~pycni.config.conf_list_from_conf`, so a conflist always beats a ``.conf`` of
    the same name. When conflists exist but nothing matches, the error is :class:`NotFoundError`;
    a missing directory gives :class:`NoConfigsFoundError`.
    """
    from .config import conf_list_from_conf, conf_list_from_file

    directory = os.fsdecode(dir)
    files = _sorted_paths(conf_files(directory, _LIST_EXTENSIONS))
    entries = _entry_names(directory) if files else None
    for path in files:
        conf_list = conf_list_from_file(path, entries)
        if conf_list.name == name:
            return conf_list
    try:
        single = load_conf(directory, name)
    except NoConfigsFoundError:
        if files:
            raise NotFoundError(directory, name) from None
        raise
    return conf_list_from_conf(single)


# --------------------------------------------------------------------------------------------
# Forgiving scan
# --------------------------------------------------------------------------------------------


@attrs.frozen
class ScannedNetwork:
    """A network found by :func:`scan_conf_dir`.

    ``kind`` is ``"conflist"`` or ``"conf"`` (a ``.conf``/``.json`` file, wrapped into a
    one-plugin list); ``shadowed_by`` is the file libcni would load instead for this name.
    """

    name: str
    path: str
    kind: Literal["conflist", "conf"]
    config: NetworkConfigList
    shadowed_by: str | None = None

    @property
    def shadowed(self) -> bool:
        """Whether another file of the directory takes precedence for this network name."""
        return self.shadowed_by is not None


@attrs.frozen
class ScanFailure:
    """A file (or the directory itself) that :func:`scan_conf_dir` could not load."""

    path: str
    error: PycniError


@attrs.frozen
class ConfDirScan:
    """Everything found in a configuration directory: networks in file order, and failures."""

    dir: str
    networks: tuple[ScannedNetwork, ...]
    failures: tuple[ScanFailure, ...]

    def get(self, name: str) -> NetworkConfigList | None:
        """The network libcni's precedence selects for ``name``, ignoring broken files."""
        for network in self.networks:
            if network.name == name and not network.shadowed:
                return network.config
        return None

    @property
    def names(self) -> list[str]:
        """The distinct network names, in file order."""
        return list(dict.fromkeys(network.name for network in self.networks))


def scan_conf_dir(dir: str | os.PathLike[str]) -> ConfDirScan:
    """Load every ``.conflist``, ``.conf`` and ``.json`` file of ``dir``; never raise for content.

    Networks come in byte-wise file order. For each name, the network libcni would load (the first
    loadable ``.conflist``, else the first loadable ``.conf``/``.json``) is unshadowed; the others
    carry ``shadowed_by``. Unlike libcni, a broken file does not hide the others: it is listed in
    ``failures``. A missing directory gives an empty scan; an unreadable one a single failure.
    """
    from .config import NetworkConfig, conf_list_from_conf, conf_list_from_file

    directory = os.fsdecode(dir)
    try:
        files = _sorted_paths(conf_files(directory, _LIST_EXTENSIONS + _CONF_EXTENSIONS))
    except ConfigError as exc:
        return ConfDirScan(directory, (), (ScanFailure(directory, exc),))
    entries = _entry_names(directory)

    loaded: list[tuple[str, Literal["conflist", "conf"], NetworkConfigList]] = []
    failures: list[ScanFailure] = []
    for path in files:
        try:
            if path.endswith(_LIST_EXTENSIONS):
                loaded.append((path, "conflist", conf_list_from_file(path, entries)))
            else:
                single = NetworkConfig.from_file(path)
                loaded.append((path, "conf", conf_list_from_conf(single)))
        except PycniError as exc:
            failures.append(ScanFailure(path, exc))

    winners: dict[str, str] = {}
    for wanted in ("conflist", "conf"):
        for path, kind, conf in loaded:
            if kind == wanted:
                winners.setdefault(conf.name, path)
    networks = tuple(
        ScannedNetwork(
            name=conf.name,
            path=path,
            kind=kind,
            config=conf,
            shadowed_by=None if winners[conf.name] == path else winners[conf.name],
        )
        for path, kind, conf in loaded
    )
    return ConfDirScan(directory, networks, tuple(failures))
