"""Do two results directories hold the same numbers? (A refactoring must not move any.)

Compares every record present in both directories on everything a run produced
(the measured series, metrics, parameter counts, step counts, fingerprint, status,
data hashes), not on timings, dates or the environment. Records of any schema version
are compared through the reader, so a version-1 record and a version-2 record of the
same run compare equal when their numbers are. Prints one line per run and exits 1 on
any difference.

    git worktree add /tmp/before <commit>                       # the code before the change
    (cd /tmp/before && python run_benchmark.py --preset smoke --strategies <all ten> --out /tmp/a)
    python run_benchmark.py --preset smoke --strategies <all ten> --out /tmp/b
    python benchmarks/record_identity.py /tmp/a /tmp/b
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.results.records import RunRecord, read_record, record_files  # noqa: E402

# Config keys that joined after the first records, at the value every earlier run had: left out where they hold it.
JOINED_LATER = {"plugins": [], "dtype": "fp32"}
TRAIN_JOINED_LATER = {"gradient_checkpointing": False, "sharding": "none", "freeze_layers": 0}
COMPARED = ("measures", "metrics", "parameters", "fingerprint", "status", "error", "data_hashes", "source_hashes", "tasks", "reference")


def produced(record: RunRecord) -> dict[str, object]:
    """What a run produced, without what depends on when and where it ran."""
    values: dict[str, object] = {key: getattr(record, key) for key in COMPARED}
    values["steps"] = [t.steps for t in record.timings]
    # ``measures`` joined the config with schema 2; its default is what schema 1 measured.
    values["config"] = {k: v for k, v in record.config.items() if k not in ("out", "progress", "measures")}
    config = values["config"]
    for key, default in JOINED_LATER.items():
        if key in config and config[key] == default:
            del config[key]
    train = dict(config.get("train", {}))
    for key, default in TRAIN_JOINED_LATER.items():
        if key in train and train[key] == default:
            del train[key]
    config["train"] = train
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    before = {p.stem: read_record(p) for p in record_files(args.before)}
    after = {p.stem: read_record(p) for p in record_files(args.after)}
    differing = 0
    for name in sorted(before.keys() | after.keys()):
        if name not in before or name not in after:
            print(f"{name}: only in {'before' if name in before else 'after'}")
            differing += 1
            continue
        a, b = produced(before[name]), produced(after[name])
        changed = [k for k in a if a[k] != b[k]]
        print(f"{name}: {'identical' if not changed else 'differs in ' + ', '.join(changed)}")
        differing += bool(changed)
    print(f"{len(before.keys() & after.keys()) - differing} of {len(before.keys() | after.keys())} runs identical")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
