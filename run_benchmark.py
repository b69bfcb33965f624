"""forgetbench command line: ``python run_benchmark.py --help`` (also installed as ``forgetbench``)."""

from __future__ import annotations

import sys

from benchmark.cli import main

if __name__ == "__main__":
    sys.exit(main())
