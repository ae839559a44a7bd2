"""Serve the NetSuite sandbox alone, in its own process (the remote vendor of a benchmark).

    python -m pshub.sandboxes.netsuite --data-dir DIR [--concurrency 5] [--latency-ms 0]
        [--async-processors 5] [--port 0]

Credentials are the hub's settings (``PSHUB_NETSUITE_*``), subsidiaries those of the local
stack. Once listening it prints one JSON line ``{"url": ...}`` on stdout, then serves until
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import threading
from pathlib import Path

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.netsuite.app import create_app
from pshub.sandboxes.server import ThreadedServer
from pshub.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pshub.sandboxes.netsuite")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--async-processors", type=int, default=5)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    from pshub.stack import SUBSIDIARIES

    s = Settings()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    state = SandboxState(args.data_dir / "netsuite.sqlite")
    app = create_app(
        state,
        account_id=s.netsuite_account_id,
        consumer_key=s.netsuite_consumer_key,
        consumer_secret=s.netsuite_consumer_secret,
        token_id=s.netsuite_token_id,
        token_secret=s.netsuite_token_secret,
        concurrency_limit=args.concurrency,
        subsidiaries=SUBSIDIARIES,
        async_processors=args.async_processors,
    )
    if args.latency_ms:
        faults = app.state.faults
        faults.settings = faults.settings.model_copy(update={"latency_ms": args.latency_ms})
    # What exists now (modules, routes, seeded lists) lives as long as the process: keep it out
    # of the cyclic collector's full passes, which otherwise walk it again and again as jobs
    # accumulate (a tenth of the sandbox's CPU on a long drain).
    gc.collect()
    gc.freeze()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with ThreadedServer(app, port=args.port or None, name="netsuite-sandbox") as server:
        print(json.dumps({"url": server.url}), flush=True)
        stop.wait()
    state.close()


if __name__ == "__main__":
    main()
