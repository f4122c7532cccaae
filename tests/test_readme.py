"""Every example of the README prints what the README shows (benchmarks/readme_check.py, one test each).

A command is run as a user would type it (through bash, `xiaming` being this interpreter's
`python -m xiaming`), in one temporary folder with the README's placeholder files; a curl to the
web API goes to the app in this process. A failure shows the difference; when the output changed
on purpose, `python benchmarks/readme_check.py --update` rewrites the README's outputs. Nothing here
is skipped: an example that cannot run is a failure saying why.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("readme_check", ROOT / "benchmarks" / "readme_check.py")
readme_check = sys.modules.setdefault("readme_check", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(readme_check)

TEXT = readme_check.README.read_text(encoding="utf-8")
EXAMPLES = readme_check.examples(TEXT)


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    runner = readme_check.Runner(tmp_path_factory.mktemp("readme"))
    runner.done = {}  # example number -> (status, output), so each runs once and in README order
    return runner


def _run(runner, ex):
    if ex.number not in runner.done:
        for before in EXAMPLES:  # what the examples before it in its block made (a trained model) comes first
            if before.block == ex.block and before.number < ex.number and before.number not in runner.done:
                runner.done[before.number] = runner.run(before)
        runner.done[ex.number] = runner.run(ex)
    return runner.done[ex.number]


def test_the_readme_has_examples_and_the_parser_reads_them():
    assert len(EXAMPLES) >= 15
    assert all(ex.command.startswith(("xiaming ", "printf ", "curl ")) for ex in EXAMPLES)
    first = EXAMPLES[0]
    assert first.command.startswith("xiaming generate") and first.expected and first.expected[-1].strip()
    # --update puts fresh output in place of the old, commands and prose untouched
    fresh = {ex.number: [f"fresh {ex.number}"] for ex in EXAMPLES if ex.shows_output}
    updated = readme_check.update(TEXT, fresh)
    again = readme_check.examples(updated)
    assert [ex.command for ex in again] == [ex.command for ex in EXAMPLES]
    assert all(ex.expected == [f"fresh {ex.number}"] for ex in again if ex.number in fresh)
    assert readme_check.update(TEXT, {}) == TEXT


@pytest.mark.parametrize(
    "ex", EXAMPLES, ids=[f"{ex.number}:{ex.command.split('#')[0].strip()[:60]}" for ex in EXAMPLES]
)
def test_readme_example(ex, runner):
    status, output = _run(runner, ex)
    problem = readme_check.compare(ex, status, output)
    assert problem is None, (
        f"{ex.label()}\n{problem}\n(if the change is intended: python benchmarks/readme_check.py --update)"
    )


def test_the_readme_test_count(request):
    """The README's "runs N tests" is what this suite collects: counted from this session when it runs the
    whole suite, else by `pytest --collect-only` in a subprocess."""
    said = readme_check.readme_test_count(TEXT)
    assert said is not None, "the README no longer says how many tests the suite runs"
    items = request.session.items
    whole = (
        {Path(str(item.fspath)).name for item in items} >= {p.name for p in (ROOT / "tests").glob("test_*.py")}
        and not request.config.option.keyword
        and not request.config.getoption("deselect", None)
    )
    count = len(items) if whole else readme_check.collected_tests()
    assert said == count, f"the README says {said} tests, the suite collects {count}: run readme_check.py --update"
