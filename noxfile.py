"""Developer sessions: tests on every installed Python, lint, typecheck, benchmarks, docs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True

ALL_PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


def _add_pyenv_versions_to_path() -> None:
    """pyenv's shims only run the versions selected as global; put every installed 3.x on PATH."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    dirs = [str(d / "bin") for d in sorted(root.glob("3.1[0-9]*")) if (d / "bin").is_dir()]
    if dirs:
        os.environ["PATH"] = os.pathsep.join([*dirs, os.environ.get("PATH", "")])


def _runs(version: str) -> bool:
    exe = shutil.which(f"python{version}")
    if exe is None:
        return False
    return subprocess.run([exe, "-c", "pass"], capture_output=True, check=False).returncode == 0


_add_pyenv_versions_to_path()
# Only the interpreters present on this machine: a missing one is not a failure of the project.
PYTHONS = [v for v in ALL_PYTHONS if _runs(v)] or ["3"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite (real-plugin tests run when root and network namespaces are available)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package."""
    session.install("-e", ".[test]", "mypy>=1.11")
    session.run("mypy", "--strict", "pycni")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against their physical floors (needs cc); prints a table of ratios."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench.py", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; warnings are errors."""
    session.install("-e", ".[docs]")
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """The nightly-style fuzz run: >= 10,000 generated cases per parser (about 20 minutes)."""
    session.install("-e", ".[test]")
    session.env["HYPOTHESIS_PROFILE"] = "nightly"
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/reliability",
        "-k",
        "fuzz",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )


@nox.session
def build(session: nox.Session) -> None:
    """Build the sdist and the wheel into dist/ and check them with twine (metadata, README)."""
    shutil.rmtree("dist", ignore_errors=True)
    session.install("build>=1.2", "twine>=6.1")
    session.run("python", "-m", "build")
    session.run("twine", "check", "--strict", *sorted(str(p) for p in Path("dist").iterdir()))
