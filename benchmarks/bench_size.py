"""Installed size without the training extra: a fresh virtual environment, `pip install .`, and the
size of what that added to site-packages (pip and setuptools, there before, are not counted).

    python benchmarks/bench_size.py                 # needs network access to PyPI (or a local index)
    python benchmarks/bench_size.py --keep /tmp/v   # keep the environment to look inside

Prints the total added and the largest packages, and checks that torch was not installed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tree_size(path: Path) -> int:
    """Bytes of the regular files under `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def site_packages(venv: Path) -> Path:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", default=None, help="create the environment here and keep it (default: a temporary one)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(args.keep or Path(tmp) / "venv")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        site = site_packages(venv)
        before = {p.name: tree_size(p) if p.is_dir() else p.stat().st_size for p in site.iterdir()}
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(ROOT)], check=True)
        after = {p.name: tree_size(p) if p.is_dir() else p.stat().st_size for p in site.iterdir()}
        added = {name: size for name, size in after.items() if name not in before}
        total = sum(added.values())
        print(f"pip install . added {total / 1e6:.1f} MB to {site}")
        for name, size in sorted(added.items(), key=lambda kv: -kv[1])[:10]:
            print(f"  {size / 1e6:8.1f} MB  {name}")
        print("torch installed: " + ("yes" if any(n.startswith("torch") for n in added) else "no"))


if __name__ == "__main__":
    main()
