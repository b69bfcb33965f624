"""Loader ``local_files``: csv, tsv, jsonl, parquet, or SentEval-style ``LABEL text`` lines.

Relative paths are resolved against ``--data-dir`` (or the working directory when no
data directory is given). A source is either one file (``path``; split later by the
harness with a seeded split) or one file per split (``files: {train: ..., test: ...}``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmark.errors import UserError
from scenarios.loaders import register_loader

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet", "senteval")
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
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n\r")
            if not line.strip():
                continue
            label, _, text = line.partition(" ")
            if not text.strip():
                raise UserError(f"{path}:{number}: the line has a label but no text; SentEval lines must read 'LABEL text'")
            labels.append(label)
            texts.append(text.strip())
    return pd.DataFrame({"label": labels, "text": texts})


def read_table(path: Path, fmt: str | None, *, encoding: str = "utf-8", columns: list[str] | None = None) -> pd.DataFrame:
    """Reads one local file into a DataFrame of strings, with one-sentence errors."""
    if not path.is_file():
        raise UserError(f"data file {str(path)!r} does not exist; pass --data-dir pointing at the folder that holds it")
    fmt = fmt or infer_format(path)
    if fmt not in FORMATS:
        raise UserError(f"cannot tell the format of {str(path)!r}; set source.args.format to one of {', '.join(FORMATS)}")
    header = None if columns else "infer"
    try:
        if fmt == "senteval":
            frame = _read_senteval(path, encoding)
        elif fmt in ("csv", "tsv"):
            frame = pd.read_csv(
                path, sep="," if fmt == "csv" else "\t", encoding=encoding, header=header,
                names=columns, dtype=str, keep_default_na=False,
            )
        elif fmt in ("jsonl", "json"):
            frame = pd.read_json(path, lines=fmt == "jsonl", encoding=encoding, dtype=False)
        else:
            frame = pd.read_parquet(path)
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{str(path)!r} is not valid {encoding} text (byte {exc.start}); set source.args.encoding (e.g. latin-1) or fix the file"
        ) from exc
    except (ValueError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{str(path)!r} could not be read as {fmt} ({first}); check the file or source.args.format") from exc
    if columns and fmt not in ("csv", "tsv"):
        frame.columns = columns
    return frame


@register_loader("local_files")
def local_files(
    *,
    data_dir: Path | None,
    path: str | None = None,
    files: dict[str, str] | None = None,
    format: str | None = None,  # noqa: A002 - the YAML key users write
    encoding: str = "utf-8",
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Reads local files: one ``path``, or ``files`` per split (``train``/``test``)."""
    if (path is None) == (files is None):
        raise UserError("a local_files source needs exactly one of 'path' (one file) or 'files' (one file per split)")
    if path is not None:
        return read_table(resolve(path, data_dir), format, encoding=encoding, columns=columns)
    assert files is not None
    unknown = sorted(set(files) - {"train", "test"})
    if unknown or "train" not in files or "test" not in files:
        raise UserError(f"a local_files source's 'files' must name exactly a 'train' and a 'test' file, got {sorted(files)}")
    parts = []
    for split, name in files.items():
        frame = read_table(resolve(name, data_dir), format, encoding=encoding, columns=columns)
        parts.append(frame.assign(split=split))
    return pd.concat(parts, ignore_index=True)
