"""Identifier validation shared by the runtime and the plugin framework (libcni ``pkg/utils``).

Container IDs, network names and interface names end up in file names (the result cache) and in
kernel calls, so they are checked with full-string matches (a trailing newline is invalid, unlike
Python's ``re.match(...$)``) and interface names by their UTF-8 byte length. Errors are
:class:`~pycni.errors.ValidationError` with libcni's codes, messages and details, plus ``field``.
"""

from __future__ import annotations

import re

from .errors import ErrorCode, ValidationError

_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.\-]*")
MAX_IFNAME_BYTES = 15

# Go's unicode.IsSpace: Python's str.isspace() minus U+001C..U+001F (which Go does not count).
_NOT_GO_SPACE = frozenset("\x1c\x1d\x1e\x1f")


def is_valid_name(name: str) -> bool:
    """True when ``name`` matches the CNI name rule over the whole string."""
    return _NAME.fullmatch(name) is not None


def validate_container_id(container_id: str) -> None:
    """Code 3 ``missing containerID`` when empty, code 4 ``invalid characters in containerID``."""
    if not container_id:
        raise ValidationError(
            ErrorCode.UNKNOWN_CONTAINER, "missing containerID", field="containerID"
        )
    if not is_valid_name(container_id):
        raise ValidationError(
            ErrorCode.INVALID_ENVIRONMENT_VARIABLES,
            "invalid characters in containerID",
            container_id,
            field="containerID",
        )


def validate_network_name(name: str) -> None:
    """Code 7 ``missing network name:`` when empty, else ``invalid characters found in network name``."""
    if not name:
        raise ValidationError(
            ErrorCode.INVALID_NETWORK_CONFIG, "missing network name:", field="name"
        )
    if not is_valid_name(name):
        raise ValidationError(
            ErrorCode.INVALID_NETWORK_CONFIG,
            "invalid characters found in network name",
            name,
            field="name",
        )


def is_go_space(ch: str) -> bool:
    """Go's ``unicode.IsSpace`` for one character."""
    return ch.isspace() and ch not in _NOT_GO_SPACE


def validate_interface_name(ifname: str) -> None:
    """libcni's interface name rules (code 4): non-empty, at most 15 UTF-8 bytes, not ``.``/``..``,
    no ``/``, ``:`` or whitespace; and (pycni) no lone surrogate, which has no UTF-8 form.

    Args:
        ifname: The interface name inside the container (``CNI_IFNAME``).

    Raises:
        ValidationError: Code 4 with libcni's message, ``field="ifname"``.
    """
    code = ErrorCode.INVALID_ENVIRONMENT_VARIABLES
    if not ifname:
        raise ValidationError(code, "interface name is empty", field="ifname")
    try:
        encoded = ifname.encode("utf-8")
    except UnicodeEncodeError:
        # a lone surrogate (e.g. from surrogateescape-decoded bytes): no UTF-8 form to hand
        # plugins in CNI_IFNAME or to name the cache file with
        raise ValidationError(
            code, "interface name is not valid UTF-8", ascii(ifname), field="ifname"
        ) from None
    if len(encoded) > MAX_IFNAME_BYTES:
        raise ValidationError(
            code,
            "interface name is too long",
            "interface name should be less than 16 characters",
            field="ifname",
        )
    if ifname in (".", ".."):
        raise ValidationError(code, "interface name is . or ..", field="ifname")
    if "\x00" in ifname:
        raise ValidationError(code, "interface name contains a NUL character", field="ifname")
    if any(ch in "/:" or is_go_space(ch) for ch in ifname):
        raise ValidationError(
            code, "interface name contains / or : or whitespace characters", field="ifname"
        )
