"""A hub process that closes one period and prints the result (the crash test kills it).

``python -m tests.integration.close.close_driver ENTITY PERIOD``; settings from PSHUB_* env.
On restart DBOS recovers the interrupted workflow; starting the same business key again
only waits for it.
"""

from __future__ import annotations

import json
import sys

from pshub import bootstrap
from pshub.flows import month_end_close as flow
from pshub.flows.durable import result_of


def main(entity: str, period: str) -> None:
    c = bootstrap.build()
    bootstrap.launch(c)
    try:
        inp = flow.CloseMonthInput(entity=entity, period=period)
        print(json.dumps({"started": flow.start(inp)}), flush=True)
        print(json.dumps(result_of(inp.workflow_id), default=str), flush=True)
    finally:
        bootstrap.shutdown(c)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
