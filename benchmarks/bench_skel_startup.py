"""Start-up cost of a plugin written with pycni.skel, against the bare interpreter.

Runs ``CNI_COMMAND=VERSION`` of a minimal skel plugin (what every runtime sends first) and
``python -c pass`` the same number of times, each as a fresh process fed the request a runtime
writes on stdin, and prints the medians and their ratio (target: under 2x).

Bytecode is cached in a temporary ``PYTHONPYCACHEPREFIX`` (and ``PYTHONDONTWRITEBYTECODE`` is
cleared for the children) so the figure is that of an installed package, not of a source checkout
recompiled on every start.

Usage: python benchmarks/bench_skel_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLUGIN = """\
#!{python}
from pycni.skel import plugin_main


def add(args):
    return None


plugin_main(add=add, versions=["0.4.0", "1.0.0", "1.1.0"], about="minimal skel plugin")
"""

REQUEST = b'{"cniVersion":"1.1.0"}'


def timed(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    """Wall-clock seconds of ``runs`` fresh runs of ``argv`` (after three warm-up runs)."""
    samples = []
    for index in range(runs + 3):
        start = time.perf_counter()
        proc = subprocess.run(argv, input=REQUEST, env=env, capture_output=True, check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"{argv[0]} failed: {proc.stdout!r} {proc.stderr!r}")
        if index >= 3:
            samples.append(elapsed)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pycni-bench-") as tmp:
        plugin = Path(tmp) / "minimal"
        plugin.write_text(PLUGIN.format(python=sys.executable))
        plugin.chmod(0o755)
        env = dict(os.environ, CNI_COMMAND="VERSION", PYTHONPYCACHEPREFIX=str(Path(tmp) / "pyc"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        answer = subprocess.run(
            [str(plugin)], input=REQUEST, env=env, capture_output=True, check=True
        )
        print(f"plugin answer: {answer.stdout.decode().strip()}")
        # Interleave the two measurements so machine noise hits both alike.
        base: list[float] = []
        skel: list[float] = []
        for _ in range(options.runs // 10 or 1):
            base += timed([sys.executable, "-c", "pass"], env, 10)
            skel += timed([str(plugin)], env, 10)
    base_ms = statistics.median(base) * 1000
    skel_ms = statistics.median(skel) * 1000
    print(f"python -c pass        median {base_ms:6.1f} ms  (min {min(base) * 1000:.1f})")
    print(f"skel plugin VERSION   median {skel_ms:6.1f} ms  (min {min(skel) * 1000:.1f})")
    print(f"ratio                 {skel_ms / base_ms:.2f}x  (target < 2x)")


if __name__ == "__main__":
    main()
