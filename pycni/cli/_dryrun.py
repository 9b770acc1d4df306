"""``--dry-run``: drive a verb's pure plan without running any plugin, and show what each plugin
would receive.

The plan is the one the runtime drives (:mod:`pycni.protocol`), so version selection, capability
filtering, ``prevResult`` threading, the cached result given to CHECK/DEL and GC's choice of stale
attachments are exactly what a real call would do. Effects are answered like this: plugin lookup
and cache reads are real (read-only), cache writes and removals are recorded but not done, and each
plugin execution is recorded and answered with an empty result ``{"cniVersion": <version>}`` so
that the next plugin of an ADD sees a ``prevResult`` of the right version.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping
from typing import Any

import attrs

from .. import cache, protocol
from ..errors import PycniError
from ..invoke import CNI_VARS, find_in_path
from ._output import Output, UsageError


@attrs.frozen
class Call:
    """One plugin invocation the real command would make."""

    plugin_type: str
    plugin_path: str
    stdin: bytes
    cni_vars: Mapping[str, str]

    @property
    def command(self) -> str:
        return self.cni_vars.get("CNI_COMMAND", "")

    def shell(self) -> str:
        """A shell line reproducing the call (the rest of the environment is inherited)."""
        env = " ".join(f"{name}={shlex.quote(self.cni_vars.get(name, ''))}" for name in CNI_VARS)
        stdin = shlex.quote(self.stdin.decode("utf-8", "replace"))
        return f"printf '%s' {stdin} | env {env} {shlex.quote(self.plugin_path)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "plugin": self.plugin_type,
            "path": self.plugin_path,
            "env": {name: self.cni_vars.get(name, "") for name in CNI_VARS},
            "stdin": self.stdin.decode("utf-8", "replace"),
            "shell": self.shell(),
        }


@attrs.define
class Recording:
    """What a dry run observed: the calls in order, cache changes, and the error it stopped at."""

    calls: list[Call] = attrs.field(factory=list)
    cache_changes: list[tuple[str, str]] = attrs.field(factory=list)
    error: PycniError | None = None


def record(
    plan: protocol.Plan[Any], path: list[str], cache_dir: str, cni_version: str
) -> Recording:
    """Drive ``plan`` with recording answers; a failure stops the run and is kept in ``error``."""
    seen = Recording()
    canned = json.dumps({"cniVersion": cni_version}).encode()
    results_dir = os.path.join(cache_dir, cache.RESULTS_DIR)

    def answer(effect: protocol.Effect) -> Any:
        if isinstance(effect, protocol.Find):
            return find_in_path(effect.plugin_type, path)
        if isinstance(effect, protocol.Exec):
            seen.calls.append(
                Call(effect.plugin_type, effect.plugin_path, effect.stdin, dict(effect.cni_vars))
            )
            return canned
        if isinstance(effect, protocol.ReadCache):
            return cache.read_entry(cache_dir, effect.name)
        if isinstance(effect, protocol.WriteCache):
            seen.cache_changes.append(("write", os.path.join(results_dir, effect.name)))
            return None
        if isinstance(effect, protocol.DeleteCache):
            seen.cache_changes.append(("remove", os.path.join(results_dir, effect.name)))
            return None
        if isinstance(effect, protocol.ListAttachments):
            try:
                return cache.list_attachments(cache_dir)
            except PycniError:
                return []
        raise UsageError(f"--dry-run cannot answer {type(effect).__name__}")

    try:
        protocol.run_with_answers(plan, answer)
    except PycniError as exc:
        seen.error = exc
    return seen


def show(out: Output, header: Mapping[str, Any], seen: Recording) -> None:
    """Print the recording (text or JSON); raise the error the run stopped at, if any."""
    if out.json_mode:
        doc = dict(header)
        doc["dryRun"] = True
        doc["invocations"] = [call.to_dict() for call in seen.calls]
        doc["cache"] = [{"action": action, "file": file} for action, file in seen.cache_changes]
        out.document(doc)
    else:
        _show_text(out, header, seen)
    if seen.error is not None:
        raise seen.error


def _show_text(out: Output, header: Mapping[str, Any], seen: Recording) -> None:
    described = ", ".join(f"{key} {value}" for key, value in header.items() if value)
    out.text(f"# dry run: nothing was executed ({described})")
    if not seen.calls:
        out.text("# no plugin would be called")
    if sum(call.command == "ADD" for call in seen.calls) > 1:
        out.text("# a later plugin's prevResult is a placeholder here: for real, it is the result")
        out.text("# of the plugin before it")
    for number, call in enumerate(seen.calls, 1):
        out.text()
        out.text(f"# {number}. {call.command} {call.plugin_type} ({call.plugin_path})")
        out.text("# environment (plus the caller's environment):")
        for name in CNI_VARS:
            out.text(f"{name}={call.cni_vars.get(name, '')}")
        out.text("# stdin:")
        out.text(call.stdin.decode("utf-8", "replace"))
        out.text("# reproduce with:")
        out.text(call.shell())
    if seen.cache_changes:
        out.text()
    for action, file in seen.cache_changes:
        out.text(f"# would {action} cache file {file}")
