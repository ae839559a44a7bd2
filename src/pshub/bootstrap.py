"""The composition root: settings, database, DBOS and vendor clients are built here, once.

Flows look their dependencies up with :func:`container` (never through workflow arguments,
which DBOS stores in clear). Tests and the demo build a container with other settings or
with fake ports, then :func:`launch`.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbos import DBOS, DBOSConfig
from sqlalchemy import Engine

from pshub.flows.ports import CrmPort, ErpBillingPort, ErpPort, PsaPort
from pshub.policy import Policy, load_policy
from pshub.settings import Settings
from pshub.store.db import Database

log = logging.getLogger("pshub.bootstrap")

if TYPE_CHECKING:
    from pshub.connectors.netsuite import NetSuiteConnector

QUEUES: dict[str, dict[str, Any]] = {
    # One queue per flow; concurrency bounds how many run at once in one worker. DBOS polls
    # each queue on its own thread (several system-database queries, ~3 ms of CPU, a poll):
    # at 0.1 s an idle hub spends about a third of a core on it. Slower polling made every
    # flow start later (the test suite 2-3 minutes, the demo 14 s slower), so the queues a
    # person waits on stay at 0.1 s; posting workflows, which run for seconds, at 0.2 s.
    "deal_to_project": {"worker_concurrency": 8, "polling_interval_sec": 0.1},
    # Billing runs go one at a time (two runs never plan one project at once)...
    "time_to_bill": {"global_concurrency": 1, "polling_interval_sec": 0.1},
    # ...and each bills its projects in posting workflows, a few at once. A posting workflow
    # sends several requests of a project at once (requests_in_parallel) and the connector's
    # per-account budget keeps within the vendor's limit; more workflows than cores only
    # trade planning CPU between threads under one interpreter lock.
    "erp_postings": {"worker_concurrency": 4, "polling_interval_sec": 0.2},
    # One forecast at a time: each snapshot's version follows the previous one.
    "forecast_publish": {"global_concurrency": 1, "polling_interval_sec": 0.1},
    "milestone_billing": {"worker_concurrency": 4, "polling_interval_sec": 0.1},
    "invoice_status": {"worker_concurrency": 4, "polling_interval_sec": 0.1},
    # T&M invoicing runs (one per period and project) and credit notes (one per memo version).
    "tm_invoicing": {"worker_concurrency": 4, "polling_interval_sec": 0.1},
    "credit_notes": {"worker_concurrency": 4, "polling_interval_sec": 0.1},
    # One close at a time per worker: each reads the whole entity and locks its period.
    "month_end_close": {"worker_concurrency": 1, "polling_interval_sec": 0.1},
    # Change orders: one run per contract at a time (intake dispatches them in order).
    "change_orders": {"worker_concurrency": 4, "polling_interval_sec": 0.1},
}


# The queue a billing run posts through: never quieted (see quiet_queues). The run's own
# queue is: it runs one run at a time, so the next run cannot start before this one ends.
POSTING_QUEUES = ("erp_postings",)


def quiet_queues(seconds: float | None) -> list[str]:
    """Poll every queue but the posting queue every ``seconds`` (None: as configured in
    :data:`QUEUES`); returns the queues changed.

    DBOS polls each queue on its own thread, and a poll is a write transaction on the system
    database whether or not anything is enqueued: the idle back-office queues take about a
    third of the interpreter from a month-end drain. DBOS re-reads a queue's interval on
    every poll, so the change applies within one interval, and :func:`launch` re-registers
    the configured intervals, so a crash never leaves the hub quiet (decision 0011).
    """
    changed = []
    for name, options in QUEUES.items():
        if name in POSTING_QUEUES:
            continue
        queue = DBOS.retrieve_queue(name)
        if queue is None:
            continue
        queue.set_polling_interval_sec(seconds or float(options["polling_interval_sec"]))
        changed.append(name)
    return changed


@dataclass
class Container:
    settings: Settings
    db: Database
    crm: CrmPort
    psa: PsaPort
    erp: ErpPort
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def erp_billing(self) -> ErpBillingPort:
        """The ERP's billing side: the ERP connector itself unless a separate port is set."""
        port = self.extras.get("erp_billing", self.erp)
        if not hasattr(port, "post_billing_lines"):
            raise RuntimeError(f"{type(port).__name__} cannot post billing lines")
        return port  # type: ignore[no-any-return]

    def policy(self) -> Policy:
        """The policy as the files stand now: re-read when any policy file changes, so a fixed
        mapping takes effect on the next retry."""
        directory = self.settings.resolved_policy_dir()
        stamp = tuple(
            sorted(
                (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in directory.glob("*.yaml")
            )
        )
        cached = self.extras.get("_policy")
        if cached is None or cached[0] != (directory, stamp):
            cached = ((directory, stamp), load_policy(directory))
            self.extras["_policy"] = cached
        policy: Policy = cached[1]
        return policy

    def close(self) -> None:
        pool = self.extras.pop("posting_pool", None)
        if pool is not None:
            pool.close()
        for client in (self.crm, self.psa, self.erp):
            closer = getattr(client, "close", None)
            if closer is not None:
                closer()
        self.db.dispose()
        engine = self.extras.pop("_dbos_engine", None)
        if engine is not None:
            engine.dispose()


_lock = threading.Lock()
_container: Container | None = None


def container() -> Container:
    if _container is None:
        raise RuntimeError("pshub is not bootstrapped: call bootstrap.build() first")
    return _container


def set_container(value: Container | None) -> None:
    global _container
    with _lock:
        _container = value


def build_connectors(settings: Settings) -> tuple[CrmPort, PsaPort, ErpPort]:
    """The real vendor clients, configured from settings."""
    from pshub.connectors.kantata import KantataConnector
    from pshub.connectors.salesforce import SalesforceConnector

    crm = SalesforceConnector(
        settings.salesforce_url,
        settings.salesforce_client_id,
        settings.salesforce_client_secret,
        ca_file=str(settings.salesforce_ca_file) if settings.salesforce_ca_file else None,
    )
    psa = KantataConnector(settings.kantata_url, settings.kantata_token)
    return crm, psa, netsuite_connector(settings)


def netsuite_connector(
    settings: Settings, url: str | None = None, max_concurrency: int | None = None
) -> NetSuiteConnector:
    """The NetSuite client with the settings' account and token (another URL or concurrency
    budget for a sandbox started elsewhere, as the benchmarks do)."""
    from pshub.connectors.netsuite import NetSuiteConnector

    return NetSuiteConnector(
        url or settings.netsuite_url,
        settings.netsuite_account_id,
        settings.netsuite_consumer_key,
        settings.netsuite_consumer_secret,
        settings.netsuite_token_id,
        settings.netsuite_token_secret,
        max_concurrency=max_concurrency or settings.netsuite_concurrency,
    )


def build(
    settings: Settings | None = None,
    *,
    crm: CrmPort | None = None,
    psa: PsaPort | None = None,
    erp: ErpPort | None = None,
) -> Container:
    """Build (and install) the container; ports not given are the real connectors."""
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url())
    factory = None
    if crm is None or psa is None or erp is None:
        real = build_connectors(settings)
        if erp is None:  # posting processes build the same NetSuite client (decision 0012)
            factory = partial(netsuite_connector, settings)
        crm, psa, erp = crm or real[0], psa or real[1], erp or real[2]
    built = Container(settings=settings, db=db, crm=crm, psa=psa, erp=erp)
    if factory is not None:
        built.extras["erp_billing_factory"] = factory
    set_container(built)
    return built


def launch(built: Container) -> None:
    """Start DBOS on the configured system database and register the flows' queues."""
    import pshub.flows.change_orders
    import pshub.flows.credit_notes
    import pshub.flows.deal_to_project
    import pshub.flows.forecast
    import pshub.flows.milestone_billing
    import pshub.flows.month_end_close
    import pshub.flows.payments
    import pshub.flows.time_to_bill
    import pshub.flows.tm_invoicing  # noqa: F401

    apply_switch_interval(built.settings)
    url = built.settings.resolved_dbos_url()
    config: DBOSConfig = {
        "name": built.settings.app_name,
        "system_database_url": url,
        "log_level": built.settings.log_level,
        "notification_listener_polling_interval_sec": 0.1,
    }
    if url.startswith("sqlite"):
        engine = sqlite_system_engine(url)
        built.extras["_dbos_engine"] = engine
        config["system_database_engine"] = engine
    DBOS(config=config)
    DBOS.launch()
    for name, options in QUEUES.items():
        DBOS.register_queue(name, on_conflict="always_update", **options)
    start_posting_processes(built)


def apply_switch_interval(settings: Settings) -> None:
    """The interpreter's thread switch interval, as configured (decision 0015)."""
    if settings.switch_interval_ms:
        sys.setswitchinterval(settings.switch_interval_ms / 1000)


def start_posting_processes(built: Container) -> None:
    """``posting_processes`` workers for billing runs, if set and the ERP billing port can be
    built in another process (``extras["erp_billing_factory"]``, set by :func:`build` for
    the real NetSuite client); otherwise billing stays in this process. Decision 0012."""
    wanted = built.settings.posting_processes
    if not wanted or "posting_pool" in built.extras:
        return
    factory = built.extras.get("erp_billing_factory")
    if factory is None:
        log.warning(
            "posting_processes=%s, but the ERP billing port cannot be built in another "
            "process: billing runs in the hub's own process",
            wanted,
        )
        return
    from pshub.posting_pool import PostingPool

    built.extras["posting_pool"] = PostingPool(built.settings, factory, wanted)


def sqlite_system_engine(url: str) -> Engine:
    """DBOS's SQLite system database in WAL mode with ``synchronous=NORMAL``, as the hub's own.

    DBOS checkpoints every step; in SQLite's default rollback journal each checkpoint commit
    costs several fsyncs (about 3 ms a step, a floor of seconds for a month-end billing run of
    a thousand batches). WAL keeps commits atomic and durable across a crash of the process;
    only a power loss may drop the last commits, and then a step runs again (steps are
    idempotent). Otherwise as DBOS sets up its own SQLite engine: IMMEDIATE transactions (one
    writer at a time), a generous busy timeout, foreign keys on; but no pre-ping.
    """
    from sqlalchemy import create_engine, event

    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False},
        pool_size=20,
        max_overflow=0,
        pool_timeout=30,
        # No pre-ping: a local file has no connection to lose, and DBOS checks a connection
        # out for every step checkpoint and every queue or result poll (a ping each).
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")
        dbapi_conn.execute("PRAGMA busy_timeout=30000")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        dbapi_conn.isolation_level = "IMMEDIATE"

    return engine


def shutdown(built: Container | None = None) -> None:
    """Stop DBOS and close clients (safe to call twice)."""
    DBOS.destroy(destroy_registry=False)
    target = built or _container
    if target is not None:
        target.close()
    set_container(None)
