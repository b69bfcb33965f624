"""Loader ``local_files``: csv, tsv, jsonl, parquet, SentEval ``LABEL text`` lines, or plain text.

Relative paths are resolved against ``--data-dir`` (or the working directory when no
data directory is given). A source is either one file (``path``; split later by the
harness with a seeded split) or one file per split (``files: {train: ..., test: ...}``).
"""

from __future__ import annotations

import codecs
import csv
import lzma
import re
import zipfile
import zlib
from pathlib import Path

import pandas as pd

from benchmark.core.errors import MissingFiles, UserError
from scenarios.loaders import register_loader

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet", "senteval", "text", "wikitext")
_SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "json", ".parquet": "parquet"}
_COMPRESSION_SUFFIXES = {".bz2", ".gz", ".zip", ".xz", ".zst"}


def infer_format(path: Path) -> str | None:
    """The table format from the file name, looking through a compression suffix (``x.csv.bz2``)."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes.pop()
    return _SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None


def resolve(path: str, data_dir: Path | None) -> Path:
    """``path`` itself when absolute, else ``data_dir / path`` (or relative to the working directory)."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    return (data_dir / p) if data_dir is not None else p


def _read_senteval(path: Path, encoding: str) -> pd.DataFrame:
    labels: list[str] = []
    texts: list[str] = []
    with path.open(encoding=encoding) as handle:
        for line in handle:
            line = line.rstrip("\n\r")
            if not line.strip():
                continue
            label, _, text = line.partition(" ")
            labels.append(label)  # a label-only line keeps an empty text: the task's drop_empty decides
            texts.append(text.strip())
    return pd.DataFrame({"label": labels, "text": texts})


_WIKITEXT_ARTICLE = re.compile(r"^ = [^=].* = $", re.M)


def _read_documents(path: Path, encoding: str, fmt: str) -> pd.DataFrame:
    """Plain text as documents: blank-line-separated paragraphs, or WikiText articles (split at ' = Title = ' lines)."""
    text = path.read_text(encoding=encoding)
    if fmt == "wikitext":
        starts = [m.start() for m in _WIKITEXT_ARTICLE.finditer(text)] or [0]
        pieces = [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]
    else:
        pieces = re.split(r"\n\s*\n", text)
    documents = [" ".join(p.split()) for p in pieces]
    return pd.DataFrame({"text": [d for d in documents if d]})


def _has_header(path: Path, columns: list[str], sep: str, encoding: str) -> bool:
    """True if the file's first row is exactly the given column names (some copies carry a header, some not).

    Read through pandas so that a compressed file is looked at decompressed.
    """
    first = pd.read_csv(path, sep=sep, encoding=encoding, header=None, nrows=1, dtype=str, keep_default_na=False)
    return [str(c).strip() for c in first.iloc[0].tolist()] == columns if len(first) else False


def _text_encoding(encoding: str, path: Path) -> str:
    """The codec to read ``path`` with: a known one, and for UTF-8 one that drops a leading byte-order mark."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise UserError(f"source.args.encoding {encoding!r} of {str(path)!r} is not a text encoding Python knows; use e.g. utf-8 or latin-1") from exc
    return "utf-8-sig" if name == "utf-8" else encoding  # a BOM would otherwise glue itself to the first column name


def read_table(
    path: Path, fmt: str | None, *, encoding: str = "utf-8", columns: list[str] | None = None, quoting: bool = True,
) -> pd.DataFrame:
    """Reads one local file into a DataFrame of strings, with one-sentence errors.

    ``columns`` names the columns of a csv/tsv without a header; a file whose first line
    is exactly those names is read the same way. ``quoting: false`` reads quote
    characters literally (GLUE's tsv files).
    """
    if path.is_dir():
        raise UserError(f"data file {str(path)!r} is a directory; point source.args.path (or files) at a file inside it")
    if not path.is_file():
        raise MissingFiles(f"data file {str(path)!r} does not exist; pass --data-dir pointing at the folder that holds it", [str(path)])
    named, encoding = encoding, _text_encoding(encoding, path)
    fmt = fmt or infer_format(path)
    if fmt not in FORMATS:
        raise UserError(f"cannot tell the format of {str(path)!r}; set source.args.format to one of {', '.join(FORMATS)}")
    try:
        if fmt == "senteval":
            frame = _read_senteval(path, encoding)
        elif fmt in ("text", "wikitext"):
            frame = _read_documents(path, encoding, fmt)
        elif fmt in ("csv", "tsv"):
            sep = "," if fmt == "csv" else "\t"
            header = (0 if _has_header(path, columns, sep, encoding) else None) if columns else "infer"
            frame = pd.read_csv(
                path, sep=sep, encoding=encoding, header=header, names=columns, dtype=str, keep_default_na=False,
                quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE,
            )
        elif fmt in ("jsonl", "json"):
            frame = pd.read_json(path, lines=fmt == "jsonl", encoding=encoding, dtype=False)
        else:
            frame = pd.read_parquet(path)
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{str(path)!r} is not valid {named} text (byte {exc.start}); set source.args.encoding (e.g. latin-1) or fix the file"
        ) from exc
    except (ValueError, pd.errors.ParserError) as exc:
        raise UserError(f"{str(path)!r} could not be read as {fmt} ({_first_line(exc)}); check the file or source.args.format") from exc
    except (EOFError, OSError, zlib.error, zipfile.BadZipFile, lzma.LZMAError) as exc:  # damaged or mislabelled compression
        raise UserError(f"{str(path)!r} could not be read ({_first_line(exc)}); it may be truncated or not compressed as its name says, so replace it or rename it") from exc
    if columns and fmt not in ("csv", "tsv"):
        frame.columns = columns
    return frame


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@register_loader("local_files")
def local_files(
    *,
    data_dir: Path | None,
    path: str | None = None,
    files: dict[str, str] | None = None,
    format: str | None = None,  # noqa: A002 - the YAML key users write
    encoding: str = "utf-8",
    columns: list[str] | None = None,
    quoting: bool = True,
) -> pd.DataFrame:
    """Reads local files: one ``path``, or ``files`` per split (``train``/``test``)."""
    if (path is None) == (files is None):
        raise UserError("a local_files source needs exactly one of 'path' (one file) or 'files' (one file per split)")
    if path is not None:
        return read_table(resolve(path, data_dir), format, encoding=encoding, columns=columns, quoting=quoting)
    assert files is not None
    unknown = sorted(set(files) - {"train", "test"})
    if unknown or "train" not in files or "test" not in files:
        raise UserError(f"a local_files source's 'files' must name exactly a 'train' and a 'test' file, got {sorted(files)}")
    parts = []
    for split, name in files.items():
        frame = read_table(resolve(name, data_dir), format, encoding=encoding, columns=columns, quoting=quoting)
        if frame.empty:  # the other file would otherwise be split into both, training on test examples
            raise UserError(
                f"the {split} file {str(resolve(name, data_dir))!r} holds no examples; fill it, or give one file as 'path' for the harness to split"
            )
        parts.append(frame.assign(split=split))
    return pd.concat(parts, ignore_index=True)
