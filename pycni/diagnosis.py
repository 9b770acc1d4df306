"""``pycni.diagnosis``: explain why a node's CNI setup works or not (the engine of ``pycni doctor``).

For a configuration directory and plugin directories it reports, per network: the file it came
from and the files it shadows (libcni's precedence), every plugin binary found or missing with the
directories searched, each plugin's VERSION answer against the config's ``cniVersion`` (the
"incompatible CNI versions" trap), the capabilities declared against the well-known list, and
known bugs of the installed plugin release (read from the plugin's ``about`` text, or from the
Debian/RPM package that owns the binary). Files that do not load are reported, not fatal.

``diagnose(...)`` returns a :class:`Diagnosis`: ``.ok`` / ``.exit_code`` give the verdict,
``.to_dict()`` the ``--json`` form and ``.render()`` the text for people.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs
from packaging.version import InvalidVersion, Version

from .config import NetworkConfig, NetworkConfigList, scan_conf_dir
from .errors import PycniError
from .exec import Executor, SubprocessExecutor
from .k8s import POD_ANNOTATIONS_CAPABILITY, WELL_KNOWN_CAPABILITIES
from .runtime import CNIConfig
from .version import at_least, candidate_versions

__all__ = [
    "KNOWN_BUGS",
    "Diagnosis",
    "Finding",
    "KnownBug",
    "NetworkDiagnosis",
    "PluginDiagnosis",
    "delegated_plugins",
    "diagnose",
    "missing_delegates",
    "parse_about",
]

Level = Literal["error", "warning", "info"]


@attrs.frozen
class KnownBug:
    """A bug of a plugin release range ``[introduced, fixed)`` that a runtime trips over."""

    plugin: str
    introduced: str
    fixed: str
    summary: str
    reference: str

    def affects(self, release: Version) -> bool:
        return Version(self.introduced) <= release < Version(self.fixed)


#: Plugin bugs worth a warning, by upstream release (containernetworking/plugins).
KNOWN_BUGS: tuple[KnownBug, ...] = (
    KnownBug(
        plugin="portmap",
        introduced="1.1.0",
        fixed="1.3.0",
        summary=(
            "CHECK looks for the container's DNAT chain in both iptables and ip6tables, so CHECK "
            'of a single-stack attachment fails ("could not check ipv6 dnat"); Debian 12 ships '
            "1.1.1. Use disableCheck, or plugins >= 1.3.0"
        ),
        reference="containernetworking/plugins#819, fixed by #821",
    ),
    KnownBug(
        plugin="bandwidth",
        introduced="0.8.0",
        fixed="1.9.1",
        summary=(
            "CHECK crashes (nil pointer dereference) when the attachment has no bandwidth limits, "
            "i.e. the pod has no bandwidth annotations; CHECK with the ADD's capability args, "
            "use disableCheck, or plugins >= 1.9.1"
        ),
        reference="containernetworking/plugins#1221",
    ),
)


@attrs.frozen
class Finding:
    """One observation: ``level`` error (fails the verdict), warning or info."""

    level: Level
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "message": self.message}


@attrs.frozen
class PluginDiagnosis:
    """One plugin of a network: where it is, what it supports, what is wrong."""

    type: str
    path: str | None
    searched: tuple[str, ...]
    supported_versions: tuple[str, ...] | None = None
    release: str | None = None
    release_source: str | None = None
    capabilities: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(f.level == "error" for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "path": self.path,
            "searched": list(self.searched),
            "supportedVersions": list(self.supported_versions)
            if self.supported_versions is not None
            else None,
            "release": self.release,
            "releaseSource": self.release_source,
            "capabilities": list(self.capabilities),
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
        }


@attrs.frozen
class NetworkDiagnosis:
    """One network: its source file, what it shadows or is shadowed by, and its plugins."""

    name: str
    source: str
    cni_version: str
    shadows: tuple[str, ...] = ()
    shadowed_by: str | None = None
    plugins: tuple[PluginDiagnosis, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.plugins) and not any(
            f.level == "error" for f in self.findings
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "cniVersion": self.cni_version,
            "shadows": list(self.shadows),
            "shadowedBy": self.shadowed_by,
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
            "plugins": [p.to_dict() for p in self.plugins],
        }


@attrs.frozen
class Diagnosis:
    """The whole report. ``ok`` is the verdict, ``exit_code`` 0 or 1 for ``pycni doctor``."""

    conf_dir: str
    bin_dirs: tuple[str, ...]
    networks: tuple[NetworkDiagnosis, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(n.ok for n in self.networks) and not any(
            f.level == "error" for f in self.findings
        )

    @property
    def verdict(self) -> str:
        return "ok" if self.ok else "failed"

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def problems(self) -> list[str]:
        """Every error and warning as one line each, prefixed with where it was found."""
        out = [f"{f.level}: {f.message}" for f in self.findings if f.level != "info"]
        for network in self.networks:
            out += [
                f"{f.level}: network {network.name}: {f.message}"
                for f in network.findings
                if f.level != "info"
            ]
            for plugin in network.plugins:
                out += [
                    f"{f.level}: network {network.name}, plugin {plugin.type}: {f.message}"
                    for f in plugin.findings
                    if f.level != "info"
                ]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "confDir": self.conf_dir,
            "binDirs": list(self.bin_dirs),
            "verdict": self.verdict,
            "findings": [f.to_dict() for f in self.findings],
            "networks": [n.to_dict() for n in self.networks],
        }

    def render(self) -> str:
        """A report for people: one block per network, then the verdict."""
        marks = {"error": "FAIL", "warning": "warn", "info": "info"}
        plugins = (
            f"plugins in {', '.join(self.bin_dirs)}" if self.bin_dirs else "no plugin directory"
        )
        lines = [f"CNI configuration {self.conf_dir}; {plugins}"]
        lines += [f"  {marks[f.level]}  {f.message}" for f in self.findings]
        for net in self.networks:
            lines.append("")
            head = f"network {net.name!r} from {net.source} (cniVersion {net.cni_version or '-'})"
            lines.append(head + ("" if net.ok else "  FAILED"))
            if net.shadowed_by:
                lines.append(f"  shadowed by {net.shadowed_by} (this file is not used)")
            lines += [f"  shadows {path}" for path in net.shadows]
            lines += [f"  {marks[f.level]}  {f.message}" for f in net.findings]
            for plugin in net.plugins:
                where = plugin.path or f"not found in {', '.join(plugin.searched) or '-'}"
                extra = []
                if plugin.supported_versions is not None:
                    extra.append("supports " + ", ".join(plugin.supported_versions))
                if plugin.release:
                    extra.append(f"release {plugin.release}")
                tail = f" ({'; '.join(extra)})" if extra else ""
                lines.append(f"  {'ok  ' if plugin.ok else 'FAIL'}  {plugin.type}: {where}{tail}")
                lines += [f"          {marks[f.level]}  {f.message}" for f in plugin.findings]
        lines += ["", f"verdict: {self.verdict}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


# --------------------------------------------------------------------------------------------
# Plugin release versions
# --------------------------------------------------------------------------------------------

_ABOUT = re.compile(r"CNI (?P<name>\S+) plugin v?(?P<version>\d+(?:\.\d+)+\S*)")
_LEADING = re.compile(r"\d+(?:\.\d+)*")


def parse_about(text: str) -> str | None:
    """The release in a plugin's ``about`` text (``CNI portmap plugin v1.1.1`` -> ``1.1.1``);
    ``None`` for ``version unknown`` and other texts."""
    match = _ABOUT.search(text)
    return match.group("version") if match else None


def _release(text: str | None) -> Version | None:
    """The upstream part of a release or package version (``1:1.1.1+ds1-3`` -> 1.1.1)."""
    if not text:
        return None
    text = text.split(":", 1)[1] if re.match(r"\d+:", text) else text
    match = _LEADING.match(text.lstrip("v"))
    if not match:
        return None
    try:
        return Version(match.group(0))
    except InvalidVersion:
        return None


def _about(path: str, timeout: float) -> str:
    """Run the plugin without ``CNI_COMMAND``: skel-based plugins print their about text."""
    try:
        done = subprocess.run(
            [path],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return (done.stderr + done.stdout).decode("utf-8", "replace")


def _package_version(path: str, timeout: float) -> str | None:
    """The version of the Debian or RPM package owning ``path``, if any."""

    def run(argv: list[str]) -> str | None:
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None

    real = os.path.realpath(path)
    if shutil.which("dpkg-query"):
        owner = run(["dpkg-query", "-S", real]) or run(["dpkg-query", "-S", path])
        if owner and ":" in owner:
            package = owner.split(":", 1)[0].split(",")[0].strip()
            return run(["dpkg-query", "-W", "-f=${Version}", package])
    if shutil.which("rpm"):
        return run(["rpm", "-qf", "--qf", "%{VERSION}", real])
    return None


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------

ReleaseProbe = Callable[[str], tuple[str | None, str | None]]


def _default_probe(timeout: float) -> ReleaseProbe:
    def probe(path: str) -> tuple[str | None, str | None]:
        release = parse_about(_about(path, timeout))
        if release:
            return release, "about"
        package = _package_version(path, timeout)
        return (package, "package") if package else (None, None)

    return probe


#: Meta plugins that run another plugin named in their own configuration: the field that names
#: it and the type they run when the field is absent.
_DELEGATING = {"flannel": ("delegate.type", "bridge")}


def delegated_plugins(plugin: NetworkConfig) -> list[tuple[str, str]]:
    """The plugins ``plugin`` will run itself, found in its configuration.

    Every plugin may name an IPAM plugin (``ipam.type``); a known meta plugin (``flannel``) also
    names the plugin it delegates to. libcni never looks at these, so a missing one shows only
    when the ADD fails inside the plugin; ``pycni doctor`` and ``pycni validate`` check them.

    Args:
        plugin: One plugin's configuration.

    Returns:
        ``(field, plugin type)`` pairs, e.g. ``[("ipam.type", "host-local")]``.
    """
    found: list[tuple[str, str]] = []
    ipam_type = plugin.ipam.get("type")
    if isinstance(ipam_type, str) and ipam_type:
        found.append(("ipam.type", ipam_type))
    if plugin.type in _DELEGATING:
        field, default = _DELEGATING[plugin.type]
        delegate = plugin.raw.get(field.split(".")[0])
        named = delegate.get("type") if isinstance(delegate, dict) else None
        found.append((field, named if isinstance(named, str) and named else default))
    return found


def missing_delegates(plugin: NetworkConfig, cni: CNIConfig) -> list[str]:
    """One sentence per plugin that ``plugin`` delegates to and that is not in ``cni.path``.

    Args:
        plugin: One plugin's configuration.
        cni: The runtime whose search path and executor find plugins.

    Returns:
        E.g. ``['ipam.type names plugin "host-local", which is missing: failed to find ...']``.
    """
    problems = []
    for field, plugin_type in delegated_plugins(plugin):
        try:
            cni.executor.find_in_path(plugin_type, cni.path)
        except PycniError as exc:
            problems.append(f'{field} names plugin "{plugin_type}", which is missing: {exc}')
    return problems


def _plugin(
    plugin_type: str,
    capabilities: Sequence[str],
    config_version: str,
    cni: CNIConfig,
    probe: ReleaseProbe | None,
    timeout: float,
    plugin: NetworkConfig | None = None,
) -> PluginDiagnosis:
    findings: list[Finding] = []
    searched = tuple(cni.path)
    if plugin is not None:
        findings.extend(Finding("error", problem) for problem in missing_delegates(plugin, cni))
    try:
        path: str | None = cni.executor.find_in_path(plugin_type, cni.path)
    except PycniError as exc:
        findings.append(Finding("error", f"plugin binary missing: {exc}"))
        return PluginDiagnosis(plugin_type, None, searched, findings=tuple(findings))
    supported: tuple[str, ...] | None = None
    try:
        info = cni.get_version_info(plugin_type, timeout=timeout)
        supported = info.supported_versions
        if not info.supports(config_version):
            findings.append(
                Finding(
                    "error",
                    f'incompatible CNI versions: config is "{config_version}", plugin supports '
                    f"{', '.join(supported)}",
                )
            )
    except PycniError as exc:
        findings.append(Finding("error", f"VERSION failed: {exc}"))
    unknown = [
        c
        for c in capabilities
        if c not in WELL_KNOWN_CAPABILITIES and c != POD_ANNOTATIONS_CAPABILITY
    ]
    for capability in unknown:
        findings.append(
            Finding(
                "warning",
                f"capability {capability!r} is not a well-known CNI capability; runtimes will "
                "not supply it unless told to",
            )
        )
    release, source = probe(path) if (probe and path) else (None, None)
    version = _release(release)
    for bug in KNOWN_BUGS:
        if bug.plugin != plugin_type:
            continue
        if version is None:
            findings.append(
                Finding(
                    "info", f"release unknown, cannot rule out: {bug.summary} ({bug.reference})"
                )
            )
        elif bug.affects(version):
            findings.append(
                Finding("warning", f"release {version}: {bug.summary} ({bug.reference})")
            )
    return PluginDiagnosis(
        plugin_type,
        path,
        searched,
        supported,
        release,
        source,
        tuple(capabilities),
        tuple(findings),
    )


def _network(
    conf: NetworkConfigList,
    source: str,
    shadows: Sequence[str],
    cni: CNIConfig,
    probe: ReleaseProbe | None,
    timeout: float,
) -> NetworkDiagnosis:
    findings: list[Finding] = []
    if conf.cni_version and not at_least(conf.cni_version, "0.4.0"):
        findings.append(
            Finding(
                "warning",
                f"cniVersion {conf.cni_version} is older than 0.4.0, the oldest Kubernetes "
                "supports (1.0.0 is recommended); CHECK is not available",
            )
        )
    for path in shadows:
        findings.append(Finding("warning", f"{path} defines the same network and is ignored"))
    plugins = tuple(
        _plugin(
            p.type,
            [c for c, on in p.capabilities.items() if on],
            conf.cni_version,
            cni,
            probe,
            timeout,
            p,
        )
        for p in conf.plugins
    )
    incompatible = [p for p in plugins if p.supported_versions and not p.ok]
    if incompatible and conf.cni_versions:
        infos = [p.supported_versions or () for p in plugins]
        for candidate in candidate_versions(conf.cni_version, conf.cni_versions):
            if all(candidate in versions for versions in infos):
                findings.append(
                    Finding("info", f"negotiate_versions=True would use cniVersion {candidate}")
                )
                break
    return NetworkDiagnosis(
        conf.name, source, conf.cni_version, tuple(shadows), None, plugins, tuple(findings)
    )


def diagnose(
    conf_dir: str | os.PathLike[str],
    bin_dirs: Sequence[str] | str,
    *,
    executor: Executor | None = None,
    timeout: float = 10.0,
    loopback: bool = True,
    release_probe: ReleaseProbe | Literal["default"] | None = "default",
) -> Diagnosis:
    """Examine ``conf_dir`` with plugins from ``bin_dirs`` (runs each plugin's VERSION).

    ``loopback`` also checks the ``loopback`` plugin every Kubernetes sandbox needs;
    ``release_probe(path) -> (release, source)`` finds a plugin's release (default: its
    ``about`` text, else the owning Debian/RPM package; ``None`` skips it).
    """
    directory = os.fsdecode(conf_dir)
    dirs = [d for d in (bin_dirs.split(os.pathsep) if isinstance(bin_dirs, str) else bin_dirs) if d]
    findings: list[Finding] = []
    try:
        cni = CNIConfig(path=dirs, executor=executor or SubprocessExecutor())
    except PycniError as exc:
        return Diagnosis(directory, tuple(dirs), (), (Finding("error", str(exc)),))
    for entry in dirs:
        if not os.path.isdir(entry) and executor is None:
            findings.append(Finding("warning", f"plugin directory {entry} does not exist"))
    if not dirs:
        findings.append(Finding("error", "no plugin directories given"))
    probe = _default_probe(timeout) if release_probe == "default" else release_probe
    if not os.path.isdir(directory):
        findings.append(Finding("error", f"configuration directory {directory} does not exist"))
    scan = scan_conf_dir(directory)
    for failure in scan.failures:
        findings.append(Finding("error", f"{failure.path} does not load: {failure.error}"))
    networks: list[NetworkDiagnosis] = []
    for scanned in scan.networks:
        if scanned.shadowed_by is not None:
            networks.append(
                NetworkDiagnosis(
                    scanned.name, scanned.path, scanned.config.cni_version, (), scanned.shadowed_by
                )
            )
            continue
        shadows = [n.path for n in scan.networks if n.shadowed_by == scanned.path]
        networks.append(_network(scanned.config, scanned.path, shadows, cni, probe, timeout))
    if os.path.isdir(directory) and not scan.networks:
        findings.append(Finding("error", f"no network configuration in {directory}"))
    elif scan.networks:
        first = next(n for n in scan.networks if n.shadowed_by is None)
        findings.append(
            Finding("info", f"default network (first file, as containerd picks it): {first.name}")
        )
    if loopback:
        lo = _plugin("loopback", (), "0.3.1", cni, None, timeout)
        networks.append(NetworkDiagnosis("cni-loopback", "<built-in>", "0.3.1", plugins=(lo,)))
    return Diagnosis(directory, tuple(dirs), tuple(networks), tuple(findings))
