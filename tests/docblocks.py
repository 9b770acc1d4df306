"""Find and run the code blocks of the Markdown documentation (used by the docs tests).

The conventions, for everyone who writes a page under ``docs/``:

* A fenced ```` ```python ```` block is **executed**. The blocks of one page run in order and share
  one namespace (a page reads like one session); the working directory is a fresh temporary
  directory per page, so relative paths (``"bin"``, ``"cache"``, ``"net.d"``) are private to it.
  ``__name__`` is not ``"__main__"``, so an ``if __name__ == "__main__":`` guard does not fire.
* A ```` ```pycon ```` block (``>>>`` prompts with expected output) is a **doctest**, run in the
  same namespace (ELLIPSIS and NORMALIZE_WHITESPACE are on).
* A ```` ```console ```` block: every line starting with ``$ `` is a shell command, run by bash in
  the page's directory with this interpreter's ``bin`` first on ``PATH``; it must exit 0 (a line
  ending in ``\\`` continues on the next). The other lines are sample output and are not compared.
* A ```` ```json ```` block must be one valid JSON document (strict: no comments, no trailing
  commas).
* Any other fence (``text``, ``yaml``, ``go``, ``sh``, ...) is not checked.

An HTML comment on the line right before the fence changes what happens to the block:

* ``<!-- docs-test: skip (why) -->``: not run; a python block is still compiled. Use it for
  illustrations that cannot run anywhere (they name files on the reader's machine, install
  software, ...). Say why.
* ``<!-- docs-test: root -->``: needs root, real plugins and network namespaces. The normal suite
  only compiles it; ``tests/integration/test_docs_root.py`` runs the whole page, this block
  included, inside the integration suite's host guard. Such a block must undo everything it
  changes on the host and keep its state (IPAM ``dataDir``, ``cache_dir``) in the working
  directory.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<mode>[a-z-]+)\b(?P<why>.*?)-->\s*$")
_MODES = ("skip", "root")
_RUN_LANGS = ("python", "pycon", "console", "json")


@dataclass
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    mode: str = "run"  # "run", "skip" or "root"
    note: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"


@dataclass
class PageRun:
    """The shared state of one page's blocks."""

    page: Path
    namespace: dict[str, Any] = field(default_factory=dict)


class MarkerError(ValueError):
    """A ``docs-test`` marker is malformed or names an unknown mode."""


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page`` with its language and marker."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        lang = (match["info"].split() or [""])[0].strip("{}.").lower()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) <= {fence[0]}:
                break
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        mode, note = _marker(lines, start, page)
        found.append(Block(page, start + 1, lang, "\n".join(body) + "\n", mode, note))
    return found


def _marker(lines: list[str], fence_index: int, page: Path) -> tuple[str, str]:
    j = fence_index - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j < 0 or "docs-test" not in lines[j]:
        return "run", ""
    match = _MARKER.match(lines[j])
    if not match or match["mode"] not in _MODES:
        raise MarkerError(
            f"{page.name}:{j + 1}: malformed marker {lines[j].strip()!r} "
            f"(expected <!-- docs-test: skip (why) --> or <!-- docs-test: root -->)"
        )
    return match["mode"], match["why"].strip(" ()")


def checked(page: Path) -> list[Block]:
    """The blocks of ``page`` whose language is checked."""
    return [b for b in blocks(page) if b.lang in _RUN_LANGS]


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


class BlockFailure(AssertionError):
    """A documentation block did not run; the message names the page and line."""


def run_block(block: Block, state: PageRun) -> None:
    """Run one block in the page's shared state (the caller sets the working directory)."""
    try:
        if block.lang == "python":
            code = compile(block.code, block.where, "exec")
            exec(code, state.namespace)
        elif block.lang == "pycon":
            _doctest(block, state)
        elif block.lang == "console":
            for command in console_commands(block.code):
                _shell(block, command)
        elif block.lang == "json":
            json.loads(block.code)
    except BlockFailure:
        raise
    except (Exception, SystemExit) as exc:
        raise BlockFailure(
            f"{block.where}: the {block.lang} block failed: {type(exc).__name__}: {exc}\n"
            f"--- block ---\n{block.code}"
        ) from exc


def compile_only(block: Block) -> None:
    """Check a block that is not run here: python must at least compile."""
    if block.lang == "python":
        try:
            compile(block.code, block.where, "exec")
        except SyntaxError as exc:
            raise BlockFailure(f"{block.where}: the python block does not compile: {exc}") from exc


def console_commands(text: str) -> Iterator[str]:
    """The ``$ `` commands of a console block, continuation lines joined."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            yield command
        i += 1


def _shell(block: Block, command: str) -> None:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", command],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise BlockFailure(
            f"{block.where}: `{command}` exited {done.returncode}\n"
            f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
        )


def _doctest(block: Block, state: PageRun) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.code, state.namespace, block.where, str(block.page), block.line)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    report: list[str] = []
    runner.run(test, out=report.append, clear_globs=False)
    if runner.failures:
        raise BlockFailure(f"{block.where}: doctest failed\n{''.join(report)}")


def run_page(page: Path, workdir: Path, *, include_root: bool) -> int:
    """Run every checked block of ``page`` in ``workdir``; return how many ran.

    Blocks marked ``root`` run only with ``include_root``; otherwise, like ``skip`` blocks, they
    are only compiled.
    """
    state = PageRun(page, {"__name__": "docs_" + page.stem.replace("-", "_")})
    ran = 0
    old = os.getcwd()
    os.chdir(workdir)
    try:
        for block in checked(page):
            if block.mode == "run" or (block.mode == "root" and include_root):
                run_block(block, state)
                ran += 1
            else:
                compile_only(block)
    finally:
        os.chdir(old)
    return ran
