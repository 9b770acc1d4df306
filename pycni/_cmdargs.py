"""``CmdArgs``: what a plugin callback receives (libcni ``skel.CmdArgs``).

Kept apart from :mod:`pycni.skel` so that answering ``VERSION`` never imports attrs: the dispatcher
imports this module only when it is about to run a callback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from . import _json
from .errors import CNIError, ErrorCode

if TYPE_CHECKING:  # pragma: no cover
    from .types import Result


@attrs.frozen
class CmdArgs:
    """The request a plugin callback serves: the ``CNI_*`` variables and the raw stdin bytes.

    Field for field libcni's ``CmdArgs`` (``ContainerID``, ``Netns``, ``IfName``, ``Args``,
    ``Path``, ``NetnsOverride``, ``StdinData``) plus ``command`` (``CNI_COMMAND``), so one function
    can serve several verbs. Values are exactly what the environment held (``""`` when unset).
    """

    container_id: str = ""
    netns: str = ""
    ifname: str = ""
    args: str = ""
    path: str = ""
    netns_override: str = ""
    stdin_data: bytes = b""
    command: str = ""

    def config(self) -> dict[str, Any]:
        """The request configuration (stdin) as a dict; code 6 error when it is not a JSON object."""
        try:
            return _json.loads_object(self.stdin_data)
        except _json.JSONError as exc:
            raise CNIError(
                ErrorCode.DECODING_FAILURE, f"error unmarshall network config: {exc}"
            ) from None

    @property
    def cni_version(self) -> str:
        """The request's ``cniVersion``; missing or empty means ``0.1.0`` (libcni's rule)."""
        from .version import decode_config_version

        return decode_config_version(self.stdin_data)

    def paths(self) -> list[str]:
        """``CNI_PATH`` split on the OS list separator (Go's ``filepath.SplitList``)."""
        return self.path.split(os.pathsep) if self.path else []

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: the process environment) with this request's ``CNI_*`` variables.

        What a delegating plugin hands to :mod:`pycni.delegate`; in a plugin process it equals
        the process environment, in tests it carries the injected values.
        """
        env = dict(os.environ if base is None else base)
        values = {
            "CNI_COMMAND": self.command,
            "CNI_CONTAINERID": self.container_id,
            "CNI_NETNS": self.netns,
            "CNI_IFNAME": self.ifname,
            "CNI_ARGS": self.args,
            "CNI_PATH": self.path,
            "CNI_NETNS_OVERRIDE": self.netns_override,
        }
        env.update({k: v for k, v in values.items() if v or k in env})
        return env

    def load_args(self, spec: Any) -> Any:
        """Parse ``CNI_ARGS`` with :func:`pycni.args.load_args` (``spec``: attrs class or mapping)."""
        from .args import load_args

        return load_args(self.args, spec)

    def prev_result(self) -> Result | None:
        """The ``prevResult`` of the request as a typed result, or ``None`` when there is none.

        Uses :func:`pycni.types.parse_prev_result` (the prevResult must belong to the config's
        version family, as in libcni).
        """
        from .types import parse_prev_result

        return parse_prev_result(self.config())
