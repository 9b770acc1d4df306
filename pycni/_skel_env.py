"""What a plugin learns from its environment and stdin, judged exactly as libcni's ``pkg/skel`` does.

Pure functions over plain values (a mapping, bytes) so the dispatcher can be driven by tests with
injected environments, plus the one kernel question skel asks (is ``CNI_NETNS`` the plugin's own
network namespace?). Everything here is cheap to import: ``import pycni.skel`` must stay fast because
every plugin process pays for it, including the ``VERSION`` probe runtimes send at start-up.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from . import _json
from .errors import CNIError, ErrorCode
from .validate import validate_container_id, validate_interface_name, validate_network_name

#: The verbs whose callbacks receive per-attachment parameters.
ATTACHMENT_VERBS = ("ADD", "CHECK", "DEL")

_ALL_WITH_PATH = ("ADD", "CHECK", "DEL", "GC", "STATUS")

# (variable, verbs requiring it, validator applied to a present value when required) in the order
# skel examines them; the order decides which error wins and how missing names are listed.
_VARIABLES: tuple[tuple[str, tuple[str, ...], Callable[[str], None] | None], ...] = (
    ("CNI_COMMAND", (*_ALL_WITH_PATH, "VERSION"), None),
    ("CNI_CONTAINERID", ATTACHMENT_VERBS, validate_container_id),
    ("CNI_NETNS", ("ADD", "CHECK"), None),
    ("CNI_IFNAME", ATTACHMENT_VERBS, validate_interface_name),
    ("CNI_ARGS", (), None),
    ("CNI_PATH", _ALL_WITH_PATH, None),
    ("CNI_NETNS_OVERRIDE", (), None),
)

#: Every variable skel reads, in skel's order.
CNI_VARIABLES: tuple[str, ...] = tuple(name for name, _, _ in _VARIABLES)


def read_environment(environ: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """Read and validate the ``CNI_*`` variables for the requested verb.

    Returns ``(command, values)`` where ``values`` maps every variable of :data:`CNI_VARIABLES` to
    its value (``""`` when unset). Raises :class:`CNIError`:

    - the first *present* required variable that fails validation (container ID, interface name),
      with ``pkg/utils``'s code and message;
    - otherwise code 4 ``required env variables [A,B] missing`` listing every missing required
      variable (an empty value counts as missing) in skel's order.

    ``CNI_COMMAND`` is required whatever its value; an unknown command requires nothing else.
    """
    command = environ.get("CNI_COMMAND", "")
    values: dict[str, str] = {}
    missing: list[str] = []
    for name, required_for, validator in _VARIABLES:
        value = environ.get(name, "")
        values[name] = value
        required = command in required_for or name == "CNI_COMMAND"
        if not value:
            if required:
                missing.append(name)
        elif required and validator is not None:
            validator(value)
    if missing:
        raise CNIError(
            ErrorCode.INVALID_ENVIRONMENT_VARIABLES,
            f"required env variables [{','.join(missing)}] missing",
        )
    return command, values


def validate_stdin_config(data: bytes) -> None:
    """skel's check of the request configuration: JSON with a valid string ``name``.

    Code 6 ``error unmarshall network config: <json error>`` when the bytes are not a JSON object
    (``null`` is accepted, as Go decodes it into an empty struct), code 7 ``missing network name``
    when the name is absent or empty, code 7 ``invalid characters found in network name`` (details:
    the name) when it does not match the CNI name rule.
    """
    try:
        config = _json.loads(data)
    except _json.JSONError as exc:
        raise _decode_error(str(exc)) from None
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise _decode_error(
            f"json: cannot unmarshal {_json.json_kind(config)} into Go value of type "
            'struct { Name string "json:\\"name\\"" }'
        )
    name = config.get("name")
    if name is not None and not isinstance(name, str):
        raise _decode_error(
            f"json: cannot unmarshal {_json.json_kind(name)} into Go struct field .name of type string"
        )
    if not name:
        raise CNIError(ErrorCode.INVALID_NETWORK_CONFIG, "missing network name")
    validate_network_name(name)


def _decode_error(detail: str) -> CNIError:
    return CNIError(ErrorCode.DECODING_FAILURE, f"error unmarshall network config: {detail}")


def read_version_request(stdin: Any, *, timeout: float = 0.25, limit: int = 1 << 16) -> bytes:
    """Read a VERSION request from ``stdin`` without ever blocking a bare ``VERSION`` probe.

    skel does not read stdin for VERSION at all; pycni reads it only to echo the requested version.
    A terminal is not read, a pipe is read until EOF or ``timeout`` seconds (a runtime that leaves
    stdin open without writing must not hang the plugin), and any failure yields ``b""``.
    """
    try:
        fileno = stdin.fileno()
    except Exception:
        fileno = None
    if fileno is None:
        try:
            data = stdin.read(limit)
        except Exception:
            return b""
        return data if isinstance(data, bytes) else str(data).encode("utf-8", "replace")
    import select
    import time

    try:
        if os.isatty(fileno):
            return b""
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + timeout
        while size < limit:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fileno], [], [], remaining)[0]:
                break
            chunk = os.read(fileno, limit - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except (OSError, ValueError):
        return b""


def netns_override(value: str) -> bool:
    """``CNI_NETNS_OVERRIDE`` disables the netns self-check when it is ``1`` or ``true`` (any case)."""
    return value == "1" or value.upper() == "TRUE"


def _own_netns() -> os.stat_result:
    try:
        return os.stat("/proc/thread-self/ns/net")
    except OSError:
        return os.stat("/proc/self/ns/net")


def check_netns(netns: str) -> None:
    """Refuse to work on the plugin's own network namespace (code 8), as skel does on Linux.

    A ``CNI_NETNS`` that cannot be opened is not an error here (DEL may legitimately name a
    namespace that is already gone); the plugin's callback judges it. Other platforms never error.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        target = os.stat(netns)
    except (OSError, ValueError):
        return
    try:
        own = _own_netns()
    except OSError:
        raise CNIError(ErrorCode.INVALID_NETNS, "get plugin's netns failed") from None
    if (target.st_dev, target.st_ino) == (own.st_dev, own.st_ino):
        raise CNIError(
            ErrorCode.INVALID_NETNS,
            "plugin's netns and netns from CNI_NETNS should not be the same",
        )


def version_answer(supported: tuple[str, ...], requested: bytes | None) -> bytes:
    """The VERSION answer: ``{"cniVersion": ..., "supportedVersions": [...]}`` and a newline.

    skel always answers ``1.1.0``; the spec says the answer carries the requested version, so when
    ``requested`` (the raw stdin) names a version the plugin supports, that version is echoed.
    Unreadable or unparsable requests fall back to ``1.1.0``: VERSION never fails on its input.
    """
    answer = CURRENT_VERSION
    if requested:
        try:
            wanted = _json.loads(requested)
        except _json.JSONError:
            wanted = None
        if isinstance(wanted, dict):
            version = wanted.get("cniVersion")
            if isinstance(version, str) and version in supported:
                answer = version
    body = {"cniVersion": answer, "supportedVersions": list(supported)}
    return _json.dumps(body, separators=(",", ":")).encode() + b"\n"


#: The newest spec version (``pycni.version.CURRENT``, repeated so this module stays light).
CURRENT_VERSION = "1.1.0"

#: Every spec version (``pycni.version.ALL``), the default a skel plugin claims to support.
ALL_VERSIONS: tuple[str, ...] = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
