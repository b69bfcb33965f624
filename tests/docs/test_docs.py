"""The docs cannot drift from the code: links resolve, every command shown parses, and the runnable blocks run.

Covers README.md and every page under docs/. A code block right after a
``<!-- runnable -->`` line is executed as written, in order with the page's other
runnable blocks, in an empty folder: a python block whose first line is ``# NAME.py`` is
written to that file (a module a later command imports with ``--plugins``), any other
python block runs with the project's interpreter, and a bash block runs in bash with
``python`` and ``forgetbench`` from this environment. Every other ``python
run_benchmark.py``/``forgetbench`` line is parsed as the command line would parse it and
its settings are resolved and checked against the registries.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import overrides_from_args, plan_parser, run_parser
from benchmark.core.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
RUNNABLE = "<!-- runnable -->"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = BLOCK.sub("", page.read_text(encoding="utf-8"))
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def links(page: Path) -> list[str]:
    text = BLOCK.sub("", page.read_text(encoding="utf-8"))
    return [target for target in LINK.findall(text) if not target.startswith(("http://", "https://", "mailto:"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(page: Path) -> None:
    broken = []
    for target in links(page):
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no such heading")
    assert broken == []


def command_lines(page: Path, *, leaderboard: bool = False) -> list[str]:
    """Every ``python run_benchmark.py``/``forgetbench`` command of a page's bash blocks (continuations joined): the run
    commands, or with ``leaderboard`` the leaderboard ones (without the word ``leaderboard``)."""
    found = []
    for language, body in BLOCK.findall(page.read_text(encoding="utf-8")):
        if language not in ("bash", "sh"):
            continue
        for line in body.replace("\\\n", " ").splitlines():
            line = line.split(" # ")[0].strip()
            if line.startswith("accelerate launch ") and "..." not in line:  # the run's own flags, after the launcher's
                line = "python run_benchmark.py" + line.partition("run_benchmark.py")[2]
            match = re.match(r"^(?:python run_benchmark\.py|forgetbench)(\s.*)?$", line)
            if not match or "accelerate" in line:
                continue
            arguments = (match.group(1) or "").strip()
            if arguments.startswith("leaderboard") == leaderboard:
                found.append(arguments.removeprefix("leaderboard").strip() if leaderboard else arguments)
    return found


COMMANDS = [(page, line) for page in PAGES for line in command_lines(page)]


@pytest.mark.parametrize(("page", "line"), COMMANDS, ids=[f"{p.relative_to(ROOT)}: {c[:60]}" for p, c in COMMANDS])
def test_every_command_shown_parses_and_names_registered_things(page: Path, line: str) -> None:
    from benchmark.engine.formulations import FORMULATIONS
    from benchmark.engine.measures import MEASURES
    from benchmark.engine.strategy import STRATEGIES
    from benchmark.suite.config import build_config

    argv = [a for a in shlex.split(line) if a not in ("|",)]
    args = plan_parser().parse_args(argv[1:]) if argv[:1] == ["plan"] else run_parser().parse_args(argv)
    if args.config or args.plugins or "|" in line:  # a file the page only names, or a user's module
        return
    try:
        config = build_config(preset=args.preset, config_file=None, overrides=overrides_from_args(args))
    except UserError as exc:
        pytest.fail(f"{line}: {exc}")
    unknown = [s for spec in config.strategies for s in spec.split("+") if s.strip() not in STRATEGIES]
    unknown += [m for m in config.measures if m not in MEASURES]
    unknown += [] if config.formulation in FORMULATIONS else [config.formulation]
    assert unknown == [], f"{line}: names {unknown}, which are not registered"


LEADERBOARD_COMMANDS = [(page, line) for page in PAGES for line in command_lines(page, leaderboard=True)]


@pytest.mark.parametrize(("page", "line"), LEADERBOARD_COMMANDS, ids=[f"{p.relative_to(ROOT)}: {c[:60]}" for p, c in LEADERBOARD_COMMANDS])
def test_every_leaderboard_command_shown_parses(page: Path, line: str) -> None:
    from leaderboard.cli import leaderboard_parser

    alternatives = re.search(r"(\S+\|\S+)", line)  # written out (--format csv|html|json): each must parse
    variants = [line.replace(alternatives.group(1), v) for v in alternatives.group(1).split("|")] if alternatives else [line]
    for variant in variants:
        parser, rest = leaderboard_parser(shlex.split(variant))
        try:
            parser.parse_args(rest)
        except UserError as exc:
            pytest.fail(f"leaderboard {variant}: {exc}")


def test_some_leaderboard_commands_are_checked() -> None:
    assert len(LEADERBOARD_COMMANDS) >= 8


def runnable_blocks(page: Path) -> list[tuple[str, str]]:
    text = page.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(text) if text[: m.start()].rstrip().endswith(RUNNABLE)]


RUNNABLE_PAGES = [page for page in PAGES if runnable_blocks(page)]


def test_some_blocks_are_runnable() -> None:
    assert len(RUNNABLE_PAGES) >= 2  # the check below is not vacuous


@pytest.mark.slow
@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_runnable_blocks_run_as_written(page: Path, tmp_path: Path) -> None:
    (tmp_path / "run_benchmark.py").symlink_to(ROOT / "run_benchmark.py")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for language, body in runnable_blocks(page):
        named = re.match(r"# (\S+\.py)\n", body)
        if language == "python" and named:
            (tmp_path / named.group(1)).write_text(body, encoding="utf-8")
            continue
        command = [sys.executable, "-c", body] if language == "python" else ["bash", "-euo", "pipefail", "-c", body]
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{page.name}: {body}\n{done.stderr[-3000:]}"


def test_the_front_page_lists_every_registered_formulation_strategy_scenario_and_measure() -> None:
    from benchmark.engine.formulations import FORMULATIONS
    from benchmark.engine.measures import MEASURES
    from benchmark.engine.strategy import STRATEGIES
    from scenarios.catalog import SCENARIOS

    box = (ROOT / "README.md").read_text(encoding="utf-8").split("## What is in the box", 1)[1].split("\n## ", 1)[0]
    def built_in(registry: object) -> list[str]:  # a plug-in another test registered is not the front page's business
        return [n for n in registry.names() if getattr(registry.get(n), "__module__", "").startswith(("benchmark.", "strategies."))]

    names = [*built_in(FORMULATIONS), *built_in(MEASURES), *(n for n in SCENARIOS.names() if "@" not in n)]
    names += [n for n in built_in(STRATEGIES) if not n.startswith("avalanche:")]
    assert len(names) > 25  # the filter keeps the built-in entries
    missing = [n for n in names if f"`{n}`" not in box]
    assert missing == []
    assert all(n.split(":", 1)[1] in box for n in STRATEGIES.names() if n.startswith("avalanche:"))


@pytest.mark.parametrize("config_file", sorted((ROOT / "docs" / "accelerate").glob("*.yaml")), ids=lambda p: p.name)
def test_the_accelerate_configs_shown_load_and_leave_sharding_to_forgetbench(config_file: Path) -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(config_file))
    assert config.distributed_type in ("NO", "MULTI_GPU")  # --sharding fsdp shards; accelerate's FSDP plugin stays off
    assert f"accelerate/{config_file.name}" in (ROOT / "docs" / "scaling-out.md").read_text(encoding="utf-8")
