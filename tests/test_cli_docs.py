"""docs/cli.md cannot drift from the command: every command has a section, and each section names
exactly the flags that command's ``--help`` lists (and no flag it does not have)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pycni.cli import build_parser, main

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
_FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
_DOC_FLAG = re.compile(r"`(--?[A-Za-z][\w-]*)[` /]")
_HEADING = re.compile(r"^## `pycni ([a-z ]+)`$", re.MULTILINE)


def commands() -> list[str]:
    """Every command path of the parser: ``add``, ..., ``cache ls``, ``cache show``, ..."""
    found: list[str] = []

    def walk(parser: object, prefix: str) -> None:
        for action in getattr(parser, "_actions", []):
            choices = getattr(action, "choices", None)
            if action.__class__.__name__ == "_SubParsersAction" and isinstance(choices, dict):
                for name, sub in choices.items():
                    path = f"{prefix} {name}".strip()
                    nested = any(a.__class__.__name__ == "_SubParsersAction" for a in sub._actions)
                    if not nested:
                        found.append(path)
                    walk(sub, path)

    walk(build_parser(), "")
    return found


def help_text(command: str) -> str:
    """What ``pycni COMMAND --help`` prints (run in-process: the same parser, much faster)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*command.split(), "--help"]) == 0
    return out.getvalue()


def help_flags(command: str) -> set[str]:
    text = help_text(command)
    options = text.split("options:", 1)[1]  # usage and positional help may quote other flags
    return {
        flag
        for line in options.splitlines()
        if line.startswith("  -")
        for flag in _FLAG.findall(line.split("  ", 2)[1] if "  " in line[2:] else line)
        if flag not in ("-h", "--help")
    }


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    heads = list(_HEADING.finditer(text))
    out = {}
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else len(text)
        body = text[head.end() : end].split("\n## ", 1)[0]
        out[head.group(1)] = body
    return out


def test_every_command_has_a_section_and_no_section_is_stale() -> None:
    assert set(sections()) == set(commands())
    assert len(commands()) >= 15


@pytest.mark.parametrize("command", commands())
def test_section_names_exactly_the_commands_flags(command: str) -> None:
    body = sections()[command]
    documented = set(_DOC_FLAG.findall(body))
    flags = help_flags(command)
    assert flags, command
    assert flags - documented == set(), f"{command}: undocumented flags"
    assert documented - flags == set(), f"{command}: docs/cli.md names flags it does not have"


def test_every_shared_flag_is_described_in_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## Environment and shared flags", 1)[1].split("\n## ", 1)[0]
    shared = set().union(*(help_flags(c) for c in ("add", "exec", "cache show")))
    shared -= {"--dry-run", "--network", "--no-loopback"}
    assert shared - set(_DOC_FLAG.findall(table)) == set()


def test_help_in_process_is_what_the_command_prints() -> None:
    env = {**os.environ, "COLUMNS": "100"}
    proc = subprocess.run(
        [sys.executable, "-m", "pycni", "cache", "show", "--help"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        assert proc.stdout == help_text("cache show")
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
