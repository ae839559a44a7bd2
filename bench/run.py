"""Run every benchmark and print its figures (one JSON object per line with --json)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import deal_latency

if __name__ == "__main__":
    flags = [a for a in sys.argv[1:] if a == "--json"]
    deal_latency.main(flags)
