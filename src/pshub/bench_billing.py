"""Time-to-bill benchmarks: drain into the NetSuite sandbox, and the hub's own overhead.

* ``drain``: approved entries already ingested are billed into the NetSuite sandbox, run in
  its own process with a concurrency limit and per-request latency. NetSuite's batch API is
  asynchronous (submit, then read the job's results), so the vendor's floor is the requests
  it needed times the latency over the concurrency: ``requests x latency / concurrency``
  (``records_per_request`` = entries / requests); ``ratio`` = seconds / floor. The naive floor
  of one request per batch of 100 is reported beside it.
* ``overhead``: the same path into a zero-latency in-process sink, to measure what the hub
  itself costs per entry (pricing, ledger, batching, DBOS checkpoints).

Entries enter through the poller's own ingest (``upsert_work_items``), spread over projects the
hub knows (canonical project, contract, cross-references), as after deal-to-project.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from pshub import bootstrap
from pshub.domain.billing import WorkItem, WorkKind
from pshub.domain.ids import canonical_id
from pshub.domain.money import Money
from pshub.domain.parties import Account
from pshub.domain.projects import Project
from pshub.flows import time_to_bill
from pshub.flows.durable import result_of
from pshub.flows.ports import ErpBillingLine, ErpPostResult, ProvisioningWriteBack, PsaProjectRef
from pshub.settings import Settings
from pshub.store import billing as billing_repo
from pshub.store import repos

ROLES = ("Partner", "Manager", "Senior Consultant", "Consultant")
USERS = ("2002", "2003", "2004", "2006")
AS_OF = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


class SinkErp:
    """A zero-latency ERP: accepts every line (the overhead benchmark's target).

    Each process's sink appends the external ids it received to its own file in
    ``log_dir`` (posting processes have sinks of their own), so lines and duplicates are
    counted across processes by :func:`sink_counts`.
    """

    system = "sink"

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._lock = threading.Lock()
        self._log: Any = None

    def post_billing_lines(self, lines: list[ErpBillingLine]) -> list[ErpPostResult]:
        text = "".join(line.external_id + "\n" for line in lines)
        with self._lock:
            if self._log is None:
                self._log = open(  # noqa: SIM115 - kept open for the process's life
                    self._log_dir / f"sink-{os.getpid()}.keys", "a", encoding="utf-8"
                )
            self._log.write(text)
            self._log.flush()
        return [ErpPostResult(key=line.key, ok=True, erp_id=line.key) for line in lines]

    def upsert_customer(self, account: Account, entity: Any, parent: str | None) -> str:
        return f"c-{account.source_id}"

    def upsert_job(self, project: Project, customer: str, entity: Any) -> str:
        return f"j-{project.id}"

    def close(self) -> None:
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None


def sink_counts(log_dir: Path) -> tuple[int, int]:
    """(lines received, distinct external ids) over every process's sink."""
    lines = 0
    keys: set[str] = set()
    for path in log_dir.glob("sink-*.keys"):
        for key in path.read_text(encoding="utf-8").splitlines():
            lines += 1
            keys.add(key)
    return lines, len(keys)


class _NoCrm:
    system = "salesforce"

    def get_opportunity(self, source_id: str) -> Any:
        raise NotImplementedError

    def get_account(self, source_id: str) -> Any:
        raise NotImplementedError

    def write_back_provisioning(self, opportunity: str, ids: ProvisioningWriteBack) -> None:
        raise NotImplementedError


class _NoPsa:
    system = "kantata"

    def upsert_project(self, project: Project, customer_name: str) -> PsaProjectRef:
        raise NotImplementedError


@dataclass
class Seeded:
    projects: list[str]
    entries: int
    ingest_seconds: float


def seed(c: bootstrap.Container, entries: int, projects: int) -> Seeded:
    """Known projects (records + cross-references, customers and jobs in the ERP) and
    ``entries`` approved time entries spread over them, ingested in chunks."""
    policy = c.policy()
    entity = policy.rules.legal_entities["UK"]
    psa_ids = []
    with c.db.session() as s:
        for n in range(projects):
            account = Account(
                id=canonical_id("account", "bench", f"a{n}"),
                source_id=f"a{n}",
                name=f"Bench customer {n}",
                billing_country="GB",
            )
            project_id = canonical_id("project", "bench", f"p{n}")
            contract_id = canonical_id("contract", "bench", f"p{n}")
            project = Project(
                id=project_id,
                contract_id=contract_id,
                name=f"Bench project {n}",
                template="TPL-DATA",
                legal_entity="UK",
                currency="GBP",
                budget=Money.of("100000000", "GBP"),
            )
            customer = c.erp.upsert_customer(account, entity, None)
            job = c.erp.upsert_job(project, customer, entity)
            psa = f"bench-{n}"
            repos.save_record(s, "project", project_id, project.model_dump(mode="json"))
            repos.save_record(
                s,
                "contract",
                contract_id,
                {
                    "id": contract_id,
                    "account_id": account.id,
                    "legal_entity": "UK",
                    "billing_model": "time_and_materials",
                    "rate_card": "STD-GBP",
                    "tax_code": "VAT:S-GB",
                    "value": {"amount": "100000000", "currency": "GBP"},
                },
            )
            for system, kind, ident in (("kantata", "workspace", psa), ("netsuite", "job", job)):
                repos.link(
                    s,
                    entity_type="project",
                    canonical_id=project_id,
                    system=system,
                    system_type=kind,
                    system_id=ident,
                )
            repos.link(
                s,
                entity_type="account",
                canonical_id=account.id,
                system="netsuite",
                system_type="customer",
                system_id=customer,
            )
            psa_ids.append(psa)
    started = time.perf_counter()
    chunk = 5000
    for first in range(0, entries, chunk):
        items = [_entry(n, psa_ids) for n in range(first, min(entries, first + chunk))]
        with c.db.session() as s:
            billing_repo.upsert_work_items(s, items)
    return Seeded(psa_ids, entries, time.perf_counter() - started)


def _entry(n: int, projects: list[str]) -> WorkItem:
    return WorkItem(
        kind=WorkKind.TIME,
        source_id=f"b{n}",
        version=1,
        project_id=projects[n % len(projects)],
        consultant_id=USERS[n % 4],
        role=ROLES[n % 4],
        work_date=date(2026, 10, 1) + timedelta(days=n % 28),
        hours=Decimal(1 + n % 8),
        approved=True,
        approved_at=datetime(2026, 10, 30, 12, 0, tzinfo=UTC),
    )


def calibration_ms(repeat: int = 3) -> float:
    """Milliseconds this interpreter takes for a fixed pure-Python loop (the best of
    ``repeat``): figures from machines whose calibration differs are not comparable."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        total = 0
        for n in range(2_000_000):
            total += n
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def _cpu_ticks() -> tuple[int, int, int] | None:
    """(steal, busy, all) CPU ticks since boot, over every CPU, from ``/proc/stat``; None
    where there is none. Busy is user, nice, system, irq and softirq: whoever ran."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields[:8]] + [0] * 8  # user nice system idle iowait irq softirq steal
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
    return ticks[7], busy, sum(ticks[:8])


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, all threads) process ``pid`` has used; None where
    ``/proc`` does not tell (not Linux, or the process is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _used(pids: list[int]) -> dict[int, float]:
    return {pid: used for pid in pids if (used := cpu_seconds(pid)) is not None}


@contextmanager
def machine(
    figures: dict[str, Any], processes: dict[str, Callable[[], list[int]]] | None = None
) -> Iterator[None]:
    """Fill ``figures`` with what the machine was like over the block: its CPUs, its
    interpreter calibration, the share of CPU time the hypervisor took (steal), and the CPU
    seconds each role's processes used (``<role>_cpu_seconds``; ``processes``: role -> its
    pids), with ``cpu_busy_percent``, their sum over what the CPUs could give in the block's
    time. Near 100 %, a run is bound by the machine's CPUs, not by what it measures;
    ``machine_busy_percent`` well above it means other work shared the machine."""
    roles = processes or {}
    cpus = os.cpu_count() or 1
    figures["cpus"] = cpus
    figures["calibration_ms"] = calibration_ms()
    before = _cpu_ticks()
    used_before = {role: _used(pids()) for role, pids in roles.items()}
    started = time.perf_counter()
    yield
    wall = time.perf_counter() - started
    after = _cpu_ticks()
    ticks = after[2] - before[2] if before is not None and after is not None else 0
    if before is not None and after is not None and ticks > 0:
        figures["cpu_steal_percent"] = round(100 * (after[0] - before[0]) / ticks, 1)
        # Every process on the machine, the run's own and any other (compare cpu_busy_percent).
        figures["machine_busy_percent"] = round(100 * (after[1] - before[1]) / ticks, 1)
    else:
        figures["cpu_steal_percent"] = figures["machine_busy_percent"] = None
    total = 0.0
    for role, pids in roles.items():
        now = _used(pids())
        # A process started during the block counts from zero; one gone is not counted.
        spent = sum(now[pid] - used_before[role].get(pid, 0.0) for pid in now)
        figures[f"{role}_cpu_seconds"] = round(spent, 2) if now else None
        total += spent
    if roles and all(figures[f"{role}_cpu_seconds"] is not None for role in roles):
        figures["cpu_busy_percent"] = round(100 * total / (cpus * wall), 1) if wall else None


def _roles(c: bootstrap.Container, **others: Callable[[], list[int]]) -> dict[str, Any]:
    """The run's processes by role: the hub's own, its posting processes (as they are when
    asked: a dead one is replaced), and ``others``."""

    def posting() -> list[int]:
        pool = c.extras.get("posting_pool")
        return pool.pids() if pool is not None else []

    roles: dict[str, Callable[[], list[int]]] = {"hub": lambda: [os.getpid()]}
    if c.extras.get("posting_pool") is not None:
        roles["posting"] = posting
    return roles | others


def drain(c: bootstrap.Container, run_id: str = "bench") -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    workflow = time_to_bill.start(time_to_bill.BillingRunInput(run_id=run_id, as_of=AS_OF))
    # Its end is seen within 50 ms (the default for result_of, as the run sees its lanes).
    result: dict[str, Any] = result_of(workflow)
    return result, time.perf_counter() - started


@contextmanager
def hub(
    data_dir: Path, erp: Any, processes: int = 0, factory: Any = None
) -> Iterator[bootstrap.Container]:
    """The hub on ``data_dir`` with ``erp`` as its ERP; with ``processes`` posting processes,
    each building its own ERP port with ``factory`` (decision 0012)."""
    settings = Settings(
        data_dir=data_dir,
        log_level="ERROR",
        outage_patience_seconds=600,
        posting_processes=processes,
    )
    c = bootstrap.build(settings, crm=_NoCrm(), psa=_NoPsa(), erp=erp)
    c.extras["erp_billing"] = erp
    if factory is not None:
        c.extras["erp_billing_factory"] = factory
    bootstrap.launch(c)
    try:
        yield c
    finally:
        bootstrap.shutdown(c)


def overhead(
    entries: int, data_dir: Path, projects: int = 50, processes: int = 0
) -> dict[str, Any]:
    sinks = data_dir / "sink"
    sinks.mkdir(parents=True, exist_ok=True)
    sink = SinkErp(sinks)
    host: dict[str, Any] = {}
    with hub(data_dir, sink, processes, partial(SinkErp, sinks)) as c:
        seeded = seed(c, entries, projects)
        with machine(host, _roles(c)):
            result, seconds = drain(c)
    sink.close()
    lines, distinct = sink_counts(sinks)
    return {
        "benchmark": "time_to_bill_overhead",
        "entries": entries,
        "posting_processes": processes,
        "posted": result.get("posted"),
        "erp_lines": lines,
        "duplicates": lines - distinct,
        "ingest_seconds": round(seeded.ingest_seconds, 2),
        "drain_seconds": round(seconds, 2),
        "entries_per_second": round(entries / seconds),
        "entries_per_second_with_ingest": round(entries / (seconds + seeded.ingest_seconds)),
        "target_entries_per_second": 20000,
        "machine": host,
    }


def drain_netsuite(
    entries: int,
    concurrency: int,
    latency_ms: float,
    data_dir: Path,
    projects: int = 50,
    batch: int = 100,
    processes: int = 0,
) -> dict[str, Any]:
    """Drain into the NetSuite sandbox served by its own process (the vendor's CPU is not the
    hub's). The floor counts the requests the vendor's async batch API needed (submit, then
    read the job's results): ``requests x latency / concurrency``."""
    host: dict[str, Any] = {}
    with sandbox_process(data_dir / "netsuite", concurrency) as (url, vendor_pid):
        erp = bootstrap.netsuite_connector(Settings(), url, concurrency)
        factory = partial(bootstrap.netsuite_connector, Settings(), url, concurrency)
        try:
            with hub(data_dir, erp, processes, factory) as c:
                seeded = seed(c, entries, projects)
                _set_latency(url, latency_ms)
                before, slots_before = _stats(url), erp.budget.usage()
                with machine(host, _roles(c, vendor=lambda: [vendor_pid])):
                    result, seconds = drain(c)
                after, slots_after = _stats(url), erp.budget.usage()
                _set_latency(url, 0)
        finally:
            erp.close()
    requests = after["requests"] - before["requests"]
    latency = latency_ms / 1000
    per_request = entries / requests if requests else 0.0
    # The floor, entries / (records per request x concurrency / latency), with the
    # records per request the vendor's async API actually needed (submit + result reads)...
    floor = entries / (per_request * concurrency / latency) if requests and latency else 0.0
    # ...which is the requests-based floor, printed as such too.
    from_requests = requests * latency / concurrency
    naive = entries / (batch * concurrency / latency) if latency_ms else 0.0
    bills = int(after["records"].get("timeBill", 0))
    return {
        "benchmark": "time_to_bill_drain",
        "entries": entries,
        "posting_processes": processes,
        "posted": result.get("posted"),
        "rejected": result.get("rejected"),
        "duplicates": max(0, bills - entries) if bills else 0,
        "seconds": round(seconds, 2),
        "ingest_seconds": round(seeded.ingest_seconds, 2),
        "requests": requests,
        "records_per_request": round(per_request, 2),
        "vendor_min_seconds": round(floor, 2),
        "vendor_min_seconds_from_requests": round(from_requests, 2),
        "ratio": round(seconds / floor, 3) if floor else None,
        "vendor_min_seconds_one_request_per_batch": round(naive, 2),
        "ratio_one_request_per_batch": round(seconds / naive, 3) if naive else None,
        "concurrency_rejections": after["concurrency_rejections"]
        - before["concurrency_rejections"],
        "concurrency": concurrency,
        "latency_ms": latency_ms,
        "target_ratio": 1.10,
        **_where_the_time_went(
            seconds, concurrency, before, after, slots_before, slots_after, processes
        ),
        "machine": host,
    }


def _where_the_time_went(
    seconds: float,
    concurrency: int,
    before: dict[str, Any],
    after: dict[str, Any],
    slots_before: tuple[int, float],
    slots_after: tuple[int, float],
    processes: int,
) -> dict[str, Any]:
    """The ratio taken apart: ``ratio`` = (slot hold / latency) x (concurrency / slots in
    flight), and the hold = the vendor's response time + what the hub adds around it.

    * ``vendor_response_ms_mean``: arrival to answer, as the sandbox counted it;
    * ``slot_hold_ms_mean``: a budget slot taken to released, as the hub counted it (the
      request's send, the vendor's response time, the answer's read);
    * ``slots_in_flight_mean``: slot-seconds held over the drain's seconds.

    The hub's figures are its own process's: with posting processes they are None.
    """
    answered = after["answered"] - before["answered"]
    vendor_busy = after["busy_seconds"] - before["busy_seconds"]
    taken = slots_after[0] - slots_before[0]
    held = slots_after[1] - slots_before[1]
    hub_counts = processes == 0 and taken > 0
    return {
        "vendor_response_ms_mean": round(1000 * vendor_busy / answered, 2) if answered else None,
        "slot_hold_ms_mean": round(1000 * held / taken, 2) if hub_counts else None,
        "slots_in_flight_mean": round(held / seconds, 3) if hub_counts and seconds else None,
        "slots_idle_percent": (
            round(100 * (1 - held / (seconds * concurrency)), 1) if hub_counts and seconds else None
        ),
    }


@contextmanager
def sandbox_process(data_dir: Path, concurrency: int | None = None) -> Iterator[tuple[str, int]]:
    """``python -m pshub.sandboxes.netsuite`` in a child process; yields its URL and pid (its
    CPU can be read from ``/proc``)."""
    import json
    import subprocess
    import sys

    limit = ["--concurrency", str(concurrency)] if concurrency is not None else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "pshub.sandboxes.netsuite", "--data-dir", str(data_dir), *limit],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the NetSuite sandbox process did not start")
        yield str(json.loads(line)["url"]), proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _set_latency(url: str, latency_ms: float) -> None:
    import httpx

    faults = httpx.get(f"{url}/_sandbox/faults", timeout=10).json()
    httpx.put(
        f"{url}/_sandbox/faults", json={**faults, "latency_ms": latency_ms}, timeout=10
    ).raise_for_status()


def _stats(url: str) -> dict[str, Any]:
    import httpx

    stats = httpx.get(f"{url}/_sandbox/stats", timeout=10).json()
    return {
        "requests": int(stats.get("requests", 0)),
        "concurrency_rejections": int(stats.get("faults_served", {}).get("concurrency", 0)),
        "answered": int(stats.get("answered", 0)),
        "busy_seconds": float(stats.get("busy_seconds", 0.0)),
        "records": stats.get("records", {}),
    }
