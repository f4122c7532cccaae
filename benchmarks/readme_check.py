"""Rerun every example of the README and compare what it prints with what the README shows.

    python benchmarks/readme_check.py              # check: one line per example, a diff for each that differs
    python benchmarks/readme_check.py --update     # rewrite the README's outputs with what the commands print now
    python benchmarks/readme_check.py --show 3     # print example 3's fresh output
    python benchmarks/readme_check.py --update --only 9 --only 14   # rewrite those two examples only

An example is a `$ ` line in a ```console block, and the lines under it up to the next `$ ` line
(blank lines at its end excepted) are what it prints. Each command runs as the README shows it,
through bash (pipes and `# comments` work), with `xiaming` meaning this interpreter's `python -m
xiaming`, stdout and stderr together as a terminal shows them, in one temporary folder shared by
the whole README in order (so `xiaming generate my.safetensors` finds the model the example before
trained). The README's own placeholder files are made there first (`FIXTURES`: 52 English names as
my_names.txt, 20 Chinese names as my_chinese_names.txt). A `curl` to localhost:8000 is sent to the
web app in this process (fastapi's TestClient over the shipped models, as `xiaming serve` serves
them) and its body compared.

An example with no output under it (a training command) must exit with 0; one with output must
print it exactly (each line's trailing spaces aside). `--update` writes the fresh output of every
example that shows output, and the README's test count ("`python3 -m pytest` runs N tests", checked
against what `pytest --collect-only` collects here), leaving the commands and the prose alone.
Nothing is skipped: an example that cannot run here (the web extra missing for a curl) is a failure
that says why.

tests/test_readme.py runs the same check on every example, one test each.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"

FIXTURES = {  # the README's placeholder inputs
    "my_names.txt": """james mary robert patricia john jennifer michael linda david elizabeth william barbara richard
susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty anthony margaret mark
sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth carol kevin amanda brian dorothy
george melissa timothy deborah ronald stephanie""".split(),
    "my_chinese_names.txt": "王建国 李秀英 张伟 刘洋 陈静 杨帆 赵磊 黄敏 周杰 吴婷 徐明 孙丽 胡军 朱琳 高峰 林晓 何勇 郭芳 马超 罗娟".split(),
}
TIMEOUT = 300  # seconds an example may take (a training example on a busy machine)


@dataclass
class Example:
    """One `$ ` line of a console block and the README lines it is shown to print."""

    number: int  # 1-based, in README order
    line: int  # 0-based index of the `$ ` line in the README
    block: int  # 1-based number of its console block (examples of a block may use what those before made)
    command: str
    expected: list[str]  # the lines shown under it (trailing blank lines not included)

    @property
    def shows_output(self) -> bool:
        return bool(self.expected)

    def label(self) -> str:
        return f"example {self.number} (README line {self.line + 1}): $ {self.command}"


def examples(text: str) -> list[Example]:
    """Every `$ ` line of every ```console block of `text`, in order."""
    lines = text.split("\n")
    found: list[Example] = []
    in_block, block = False, 0
    current: Example | None = None

    def close() -> None:
        if current is not None:
            while current.expected and not current.expected[-1].strip():
                current.expected.pop()
            found.append(current)

    for i, line in enumerate(lines):
        if not in_block:
            in_block = line.strip() == "```console"
            block += in_block
            continue
        if line.strip() == "```":
            close()
            current, in_block = None, False
        elif line.startswith("$ "):
            close()
            current = Example(len(found) + 1, i, block, line[2:], [])
        elif current is not None:
            current.expected.append(line)
    for n, ex in enumerate(found, 1):
        ex.number = n
    return found


class Runner:
    """Runs examples in one temporary folder (with the fixtures), in README order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        for name, rows in FIXTURES.items():
            (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
        self._client = None

    def run(self, ex: Example) -> tuple[int, str]:
        """(exit status, what it printed: stdout and stderr together)."""
        if re.match(r"\s*curl\b", ex.command):
            return self._curl(ex.command)
        script = f'xiaming() {{ {shlex.quote(sys.executable)} -m xiaming "$@"; }}\n{ex.command}\n'
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "100", "NO_COLOR": "1"}
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=self.folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        return done.returncode, done.stdout

    def _curl(self, command: str) -> tuple[int, str]:
        """`curl -s localhost:8000/api/... -d BODY` sent to the app in this process; (0, the body) or (1, why)."""
        args = shlex.split(command.split(" #")[0])
        url = next((a for a in args if "localhost:8000" in a), None)
        body = args[args.index("-d") + 1] if "-d" in args else None
        if url is None:
            return 1, "not a request to localhost:8000"
        if self._client is None:
            try:
                from fastapi.testclient import TestClient

                from xiaming.web.app import create_app
                from xiaming.web.backend import Backend
            except ImportError as exc:
                return 1, f"cannot check a web example here: {exc} (pip install '.[web]')"
            self._client = TestClient(create_app(Backend.load(), workers=0), base_url="http://localhost:8000")
        path = url.split("localhost:8000", 1)[1] or "/"
        response = (
            self._client.post(path, content=body, headers={"content-type": "application/json"})
            if body is not None
            else self._client.get(path)
        )
        return 0, response.text + "\n"


def compare(ex: Example, status: int, output: str) -> str | None:
    """None when `output` is what the README shows (or, for an example that shows none, it exited 0); else why not."""
    if not ex.shows_output:
        return None if status == 0 else f"exit status {status}:\n{output}"
    got = [line.rstrip() for line in output.rstrip("\n").split("\n")]
    want = [line.rstrip() for line in ex.expected]
    if got == want:
        return None
    diff = "\n".join(difflib.unified_diff(want, got, "README", "now", lineterm="", n=1))
    return f"exit status {status}; the output differs:\n{diff}"


def fresh_lines(output: str) -> list[str]:
    return [line.rstrip() for line in output.rstrip("\n").split("\n")]


def update(text: str, fresh: dict[int, list[str]]) -> str:
    """`text` with the output of each example numbered in `fresh` replaced by its lines."""
    lines = text.split("\n")
    for ex in sorted(examples(text), key=lambda e: -e.line):  # from the bottom, so line numbers stay valid
        if ex.number in fresh:
            start = ex.line + 1
            lines[start : start + len(ex.expected)] = fresh[ex.number]
    return "\n".join(lines)


TEST_COUNT = re.compile(r"`python3 -m pytest` runs ([\d,]+) tests")


def readme_test_count(text: str) -> int | None:
    """The number of tests the README says the suite runs (None: it says none)."""
    found = TEST_COUNT.search(text)
    return int(found.group(1).replace(",", "")) if found else None


def collected_tests() -> int:
    """How many tests `pytest` collects in this checkout (as `python3 -m pytest` runs them: those that skip
    themselves where a tool is missing, such as the browser tests without Chromium, count)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-o", "addopts=", "-p", "no:cacheprovider", "tests"],
        cwd=README.parent,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    found = re.search(r"(\d+) tests? collected", done.stdout)
    if found is None:
        raise RuntimeError(f"pytest --collect-only printed no count:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", default=str(README), help="the README to check (default: this checkout's)")
    parser.add_argument("--update", action="store_true", help="rewrite the shown outputs with the fresh ones")
    parser.add_argument(
        "--show",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="print example N's fresh output (may be repeated)",
    )
    parser.add_argument(
        "--only",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="check (or update) example N alone, with the examples before it in its block "
        "(may be repeated; default: every example, and the test count)",
    )
    args = parser.parse_args()
    path = Path(args.readme)
    text = path.read_text(encoding="utf-8")
    found = examples(text)
    failures, fresh = 0, {}
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(Path(tmp))
        wanted = {
            ex.number
            for ex in found
            for n in args.only
            for only in found
            if only.number == n and ex.block == only.block and ex.number <= n
        }
        for ex in found:
            if args.only and ex.number not in wanted:
                continue
            status, output = runner.run(ex)
            if args.only and ex.number not in args.only:
                continue  # run only for what it leaves behind (a trained model)
            problem = compare(ex, status, output)
            if ex.shows_output and status == 0:
                fresh[ex.number] = fresh_lines(output)
            if ex.number in args.show:
                print(f"--- {ex.label()}\n{output}", end="" if output.endswith("\n") else "\n")
            verdict = "ok" if problem is None else ("updated" if args.update and ex.number in fresh else "DIFFERS")
            print(f"{verdict:8} {ex.label()}" + ("" if ex.shows_output else "  (shows no output: exit 0 checked)"))
            if problem is not None and not (args.update and ex.number in fresh):
                failures += 1
                print("    " + problem.replace("\n", "\n    "))
    said, count = readme_test_count(text), (None if args.only else collected_tests())
    if count is not None and said != count:
        print(
            f"{'updated' if args.update else 'DIFFERS':8} the test count: the README says {said}, pytest collects {count}"
        )
        failures += not args.update
    elif count is not None:
        print(f"ok       the test count: {count}")
    if args.update:
        new = update(text, fresh)
        if said is not None and count is not None:
            new = TEST_COUNT.sub(f"`python3 -m pytest` runs {count:,} tests", new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"wrote {path}")
    print(json.dumps({"examples": len(found), "failures": failures}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
