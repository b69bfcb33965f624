"""Bad data files: damaged or mislabelled compression, wrong loader arguments, files of the wrong kind.

Each is one sentence naming the file or field and the fix, exit 2, nothing written;
valid files that used to be misread (a byte-order mark) give the right data.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from benchmark.cli import main
from scenarios.loaders.local_files import read_table
from tests.conftest import smoke_args, write_toy_scenario
from tests.bad_input.test_bad_input import refused_in_one_sentence, scenario_with, write


def toy_rows(d: Path) -> bytes:
    return (d / "toy" / "task1.csv").read_bytes()


def data_file(d: Path, s: Path, name: str, payload: bytes, args: str = "") -> list[str]:
    """The toy scenario with task1 reading ``payload`` from a file called ``name`` (extra ``args`` after the path)."""
    path = write(d / name, payload)
    return scenario_with(d, s, f"path: {d / 'toy' / 'task1.csv'}", f"path: {path}{args}")


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def zipped(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("task1.csv", data)
    return buffer.getvalue()


DataCase = tuple[Callable[[Path, Path], list[str]], str]
DATA_CASES: dict[str, DataCase] = {
    "truncated gzip": (lambda d, s: data_file(d, s, "t.csv.gz", truncated(gzip.compress(toy_rows(d)))), "could not be read (Compressed file ended before the end-of-stream marker was reached); it may be truncated"),
    "gz file that is not gzip": (lambda d, s: data_file(d, s, "t.csv.gz", toy_rows(d)), "could not be read (Not a gzipped file"),
    "corrupt gzip body": (lambda d, s: data_file(d, s, "t.csv.gz", gzip.compress(toy_rows(d))[:20] + b"\x00" * 200), "t.csv.gz' could not be read"),
    "truncated bz2": (lambda d, s: data_file(d, s, "t.csv.bz2", truncated(bz2.compress(toy_rows(d)))), "t.csv.bz2' could not be read"),
    "xz file that is not xz": (lambda d, s: data_file(d, s, "t.csv.xz", toy_rows(d)), "t.csv.xz' could not be read"),
    "truncated zip": (lambda d, s: data_file(d, s, "t.csv.zip", truncated(zipped(toy_rows(d)))), "t.csv.zip' could not be read"),
    "encoding that is a number": (lambda d, s: data_file(d, s, "t.csv", toy_rows(d), ", encoding: 5"), "field 'source.args.encoding' must be a string, got 5"),
    "encoding Python does not know": (lambda d, s: data_file(d, s, "t.csv", toy_rows(d), ", encoding: no-such-codec"), "source.args.encoding 'no-such-codec' of"),
    "columns that are not names": (lambda d, s: data_file(d, s, "t.csv", toy_rows(d), ", columns: {a: 1}"), "field 'source.args.columns' must be a list of strings or null"),
    "quoting that is not true or false": (lambda d, s: data_file(d, s, "t.csv", toy_rows(d), ", quoting: maybe"), "field 'source.args.quoting' must be true or false, got 'maybe'"),
    "unknown explicit format": (lambda d, s: data_file(d, s, "t.csv", toy_rows(d), ", format: xlsx"), "cannot tell the format of"),
    "path and files both": (lambda d, s: data_file(d, s, "t.csv", toy_rows(d), ", files: {train: t.csv, test: t.csv}"), "needs exactly one of 'path' (one file) or 'files'"),
    "data path that is a directory": (lambda d, s: scenario_with(d, s, f"path: {d / 'toy' / 'task1.csv'}", f"path: {d / 'toy'}"), "is a directory; point source.args.path (or files) at a file inside it"),
    "empty csv file": (lambda d, s: data_file(d, s, "t.csv", b""), "could not be read as csv (No columns to parse from file)"),
    "parquet file that is not parquet": (lambda d, s: data_file(d, s, "t.parquet", toy_rows(d)), "could not be read as parquet"),
    "jsonl file that is not json": (lambda d, s: data_file(d, s, "t.jsonl", b"{not json}\n"), "could not be read as jsonl"),
    "corpus file that is truncated gzip": (lambda d, s: scenario_with(d, s, f"path: {d / 'toy' / 'corpus.csv'}", f"path: {write(d / 'c.csv.gz', truncated(gzip.compress((d / 'toy' / 'corpus.csv').read_bytes())))}"), "c.csv.gz' could not be read"),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_file_is_one_sentence_exit_2_and_nothing_written(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused_in_one_sentence(DATA_CASES[case], tmp_path, capsys)


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress], ids=["gz", "bz2", "xz"])
def test_intact_compressed_files_read_like_the_plain_file(tmp_path: Path, compress: Callable[[bytes], bytes]) -> None:
    frame = pd.DataFrame({"text": ["a b", "c, d", "é f"], "label": ["x", "y", "x"]})
    plain = frame.to_csv(index=False).encode("utf-8")
    suffix = {gzip.compress: "gz", bz2.compress: "bz2", lzma.compress: "xz"}[compress]
    path = Path(write(tmp_path / f"t.csv.{suffix}", compress(plain)))
    pd.testing.assert_frame_equal(read_table(path, None), frame)
    # a header line equal to the given columns is recognised through the compression too
    pd.testing.assert_frame_equal(read_table(path, None, columns=["text", "label"]), frame)


@pytest.mark.parametrize("columns", [None, ["text", "label"]], ids=["header inferred", "columns given"])
def test_a_byte_order_mark_does_not_hide_the_header(tmp_path: Path, columns: list[str] | None) -> None:
    rows = "text,label\nfirst text,neg\nsecond text,pos\n"
    with_bom = read_table(Path(write(tmp_path / "bom.csv", b"\xef\xbb\xbf" + rows.encode())), "csv", columns=columns)
    without = read_table(Path(write(tmp_path / "plain.csv", rows)), "csv", columns=columns)
    pd.testing.assert_frame_equal(with_bom, without)
    assert list(with_bom.columns) == ["text", "label"] and len(with_bom) == 2  # the header is not a data row


def test_a_bom_csv_with_columns_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_toy_scenario(tmp_path / "toy")
    bom = b"\xef\xbb\xbf" + toy_rows(tmp_path)
    args = data_file(tmp_path, scenario, "bom.csv", bom, ", columns: [text, label]")
    assert main(smoke_args(scenario, tmp_path / "results") + args) == 0, capsys.readouterr().err
