"""Logs, traces and flow metrics, all keyed by the correlation id.

- **Logs**: structlog JSON lines; ``correlation_id`` is bound for the duration of a request
  or an operator action (:func:`correlation_scope`) and added to every line.
- **Traces**: the correlation id *is* the trace: its trace id is derived from the id
  (:func:`trace_id_for`), so every span of one deal lands in one trace whichever process,
  thread or retry made it. Vendor calls carry it as a W3C ``traceparent`` header; the
  :class:`TraceMiddleware` continues it on the server side (hub API and sandboxes).
- **Metrics**: vendor calls by status and latency (counted by the instrumented HTTP clients),
  and per-flow finished runs and durations read from ``flow_runs`` at scrape time, so every
  worker sharing the database reports the same numbers.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import secrets
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

import httpx
import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from prometheus_client import Counter, Histogram

from pshub import telemetry

CORRELATION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pshub_correlation_id", default=None
)

VENDOR_CALLS = Counter(
    "pshub_vendor_calls_total",
    "Vendor API calls by vendor and HTTP status (or 'error' without a response)",
    ["vendor", "status"],
    registry=telemetry.REGISTRY,
)
VENDOR_LATENCY = Histogram(
    "pshub_vendor_call_seconds", "Vendor API call latency", ["vendor"], registry=telemetry.REGISTRY
)

# --- logs ------------------------------------------------------------------------------------


def _add_correlation(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    cid = event.get("correlation_id") or current_correlation()
    if cid:
        event["correlation_id"] = cid
        event.setdefault("trace_id", f"{trace_id_for(cid):032x}")
    return event


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """JSON lines to ``stream`` (stderr by default), each with the correlation id in scope."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_correlation,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


@contextmanager
def correlation_scope(correlation_id: str | None) -> Iterator[None]:
    """Bind ``correlation_id`` to logs and vendor-call traces made inside the block."""
    token = CORRELATION.set(correlation_id)
    try:
        yield
    finally:
        CORRELATION.reset(token)


# --- correlation of the running code ---------------------------------------------------------

_resolver: Callable[[str], str | None] | None = None
_cache: OrderedDict[str, str | None] = OrderedDict()
_cache_lock = threading.Lock()


def set_workflow_resolver(resolver: Callable[[str], str | None] | None) -> None:
    """How to find a workflow's correlation id (the hub reads it from ``flow_runs``)."""
    global _resolver
    _resolver = resolver


def current_correlation() -> str | None:
    """The correlation id in scope, else the one of the DBOS workflow this thread runs."""
    cid = CORRELATION.get()
    if cid or _resolver is None:
        return cid
    workflow_id = _dbos_workflow_id()
    if workflow_id is None:
        return None
    with _cache_lock:
        if workflow_id in _cache:
            return _cache[workflow_id]
    found = _resolver(workflow_id)
    with _cache_lock:
        _cache[workflow_id] = found
        while len(_cache) > 4096:
            _cache.popitem(last=False)
    return found


def _dbos_workflow_id() -> str | None:
    try:
        from dbos import DBOS

        wid: str | None = DBOS.workflow_id
        return wid
    except Exception:  # DBOS not launched in this process: no workflow context
        return None


# --- traces ----------------------------------------------------------------------------------


def trace_id_for(correlation_id: str) -> int:
    """The 128-bit trace id of a correlation id (stable across processes and retries)."""
    return int.from_bytes(hashlib.sha256(correlation_id.encode()).digest()[:16], "big") or 1


def _root_context(correlation_id: str) -> Any:
    parent = SpanContext(
        trace_id=trace_id_for(correlation_id),
        span_id=int.from_bytes(hashlib.sha256(b"root:" + correlation_id.encode()).digest()[:8])
        or 1,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


def traceparent(trace_id: int, span_id: int) -> str:
    return f"00-{trace_id:032x}-{span_id:016x}-01"


def parse_traceparent(value: str | None) -> SpanContext | None:
    """A W3C traceparent header as a remote span context (None when malformed)."""
    parts = (value or "").strip().split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    try:
        trace_id, span_id = int(parts[1], 16), int(parts[2], 16)
    except ValueError:
        return None
    if not trace_id or not span_id:
        return None
    flags = TraceFlags(int(parts[3][:2], 16) & 1) if parts[3][:2].isalnum() else TraceFlags(0)
    return SpanContext(trace_id=trace_id, span_id=span_id, is_remote=True, trace_flags=flags)


class Tracing:
    """One exporter, one tracer provider per service (hub and each sandbox)."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._processor = SimpleSpanProcessor(exporter)
        self._providers: dict[str, TracerProvider] = {}
        self._lock = threading.Lock()

    def tracer(self, service: str) -> trace.Tracer:
        with self._lock:
            provider = self._providers.get(service)
            if provider is None:
                provider = TracerProvider(resource=Resource.create({"service.name": service}))
                provider.add_span_processor(self._processor)
                self._providers[service] = provider
        return provider.get_tracer("pshub")

    def shutdown(self) -> None:
        for provider in self._providers.values():
            provider.shutdown()


_tracing: Tracing | None = None


def setup_tracing(exporter: SpanExporter | None) -> Tracing | None:
    """Export spans to ``exporter`` (an OTLP or in-memory exporter); None turns spans off
    (``traceparent`` headers are still sent, so sandboxes and vendors can correlate)."""
    global _tracing
    if _tracing is not None:
        _tracing.shutdown()
    _tracing = Tracing(exporter) if exporter is not None else None
    return _tracing


def tracer(service: str = "pshub") -> trace.Tracer | None:
    return None if _tracing is None else _tracing.tracer(service)


@contextmanager
def vendor_call(vendor: str, method: str, url: str) -> Iterator[dict[str, str]]:
    """Span, metrics and the ``traceparent`` header for one outgoing vendor call."""
    cid = current_correlation()
    headers: dict[str, str] = {}
    started = time.perf_counter()
    status = "error"
    t = tracer("pshub")
    ctx = _root_context(cid) if cid else None
    if t is None:
        if cid:
            headers["traceparent"] = traceparent(trace_id_for(cid), secrets.randbits(64) or 1)
        try:
            yield headers
            status = headers.get("_status", "ok")
        finally:
            _count(vendor, status, started)
        return
    name = f"{vendor} {method}"
    with t.start_as_current_span(name, context=ctx, kind=SpanKind.CLIENT) as span:
        span.set_attribute("http.request.method", method)
        span.set_attribute("url.full", url)
        span.set_attribute("peer.service", vendor)
        if cid:
            span.set_attribute("pshub.correlation_id", cid)
        sc = span.get_span_context()
        headers["traceparent"] = traceparent(sc.trace_id, sc.span_id)
        try:
            yield headers
            status = headers.get("_status", "ok")
            span.set_attribute("http.response.status_code", int(status) if status.isdigit() else 0)
        finally:
            _count(vendor, status, started)


def _count(vendor: str, status: str, started: float) -> None:
    VENDOR_CALLS.labels(vendor, status).inc()
    VENDOR_LATENCY.labels(vendor).observe(time.perf_counter() - started)
    if status == "error" or (status.isdigit() and int(status) >= 400):
        with _state_lock:
            state = VENDOR_STATE.setdefault(vendor, {})
            state["last_error"] = {"status": status, "at": time.time()}


# Limit headers vendors send back, kept per vendor for the connectors page.
LIMIT_HEADERS = (
    "sforce-limit-info",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
)
VENDOR_STATE: dict[str, dict[str, Any]] = {}
_state_lock = threading.Lock()


def note_response(vendor: str, status: int, headers: Mapping[str, str]) -> None:
    """Remember the last status and limit headers a vendor answered with."""
    seen = {h: headers[h] for h in LIMIT_HEADERS if h in headers}
    with _state_lock:
        state = VENDOR_STATE.setdefault(vendor, {})
        state["last_status"], state["last_at"] = status, time.time()
        state.setdefault("limits", {}).update(seen)


class TraceMiddleware:
    """ASGI middleware: a server span per request, continuing an incoming ``traceparent``."""

    def __init__(self, app: Any, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Mapping[str, Any], receive: Any, send: Any) -> None:
        t = tracer(self.service)
        if scope["type"] != "http" or t is None:
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        parent = parse_traceparent(headers.get("traceparent"))
        ctx = trace.set_span_in_context(NonRecordingSpan(parent)) if parent else None
        name = f"{scope.get('method', 'GET')} {scope.get('path', '')}"
        with t.start_as_current_span(name, context=ctx, kind=SpanKind.SERVER) as span:
            span.set_attribute("url.path", str(scope.get("path", "")))

            async def send_wrapper(message: Mapping[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", int(message["status"]))
                await send(message)

            await self.app(scope, receive, send_wrapper)


# --- instrumenting the connectors' HTTP clients ----------------------------------------------


class TracingTransport(httpx.BaseTransport):
    """Wraps an httpx transport: every request gets a span, a traceparent and a count."""

    def __init__(self, inner: httpx.BaseTransport, vendor: str) -> None:
        self.inner = inner
        self.vendor = vendor

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with vendor_call(self.vendor, request.method, str(request.url)) as headers:
            if "traceparent" in headers:
                request.headers["traceparent"] = headers["traceparent"]
            response = self.inner.handle_request(request)
            headers["_status"] = str(response.status_code)
            note_response(self.vendor, response.status_code, response.headers)
            return response

    def close(self) -> None:
        self.inner.close()


def instrument_httpx(client: httpx.Client, vendor: str) -> None:
    """Trace and count every call ``client`` makes (idempotent)."""
    inner = getattr(client, "_transport", None)
    if isinstance(inner, httpx.BaseTransport) and not isinstance(inner, TracingTransport):
        client._transport = TracingTransport(inner, vendor)


def instrument_requests(session: Any, vendor: str) -> None:
    """The same for a ``requests.Session`` (simple-salesforce), through its adapters."""
    from requests.adapters import BaseAdapter

    class _Adapter(BaseAdapter):
        def __init__(self, inner: BaseAdapter) -> None:
            super().__init__()
            self.inner = inner

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            with vendor_call(vendor, str(request.method), str(request.url)) as headers:
                if "traceparent" in headers:
                    request.headers["traceparent"] = headers["traceparent"]
                response = self.inner.send(request, *args, **kwargs)
                headers["_status"] = str(response.status_code)
                note_response(vendor, response.status_code, response.headers)
                return response

        def close(self) -> None:
            self.inner.close()

    for prefix, adapter in list(session.adapters.items()):
        if type(adapter).__name__ != "_Adapter":
            session.mount(prefix, _Adapter(adapter))


def instrument_port(port: Any, vendor: str, depth: int = 2) -> int:
    """Find the HTTP clients inside a connector and instrument them; returns how many."""
    import requests

    found, seen = 0, set()
    # Breadth first: an object reachable by two paths is visited at its shallowest depth.
    queue: deque[tuple[Any, int]] = deque([(port, 0)])
    while queue:
        obj, level = queue.popleft()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, httpx.Client):
            instrument_httpx(obj, vendor)
            found += 1
        elif isinstance(obj, requests.Session):
            instrument_requests(obj, vendor)
            found += 1
        elif level < depth and hasattr(obj, "__dict__"):
            queue.extend((v, level + 1) for v in vars(obj).values() if hasattr(v, "__dict__"))
    return found


# --- installation ----------------------------------------------------------------------------

_flow_metrics: Any = None
_current_db: list[Any] = [None]


def install(app: Any, c: Any) -> None:
    """Wire logs, traces and flow metrics for the hub ``app`` built on container ``c``."""
    global _flow_metrics
    configure_logging(c.settings.log_level)
    _current_db[0] = c.db
    set_workflow_resolver(lambda wid: _correlation_of(c, wid))
    if _flow_metrics is None:
        from pshub.console.metrics import FlowRunMetrics
        from pshub.store.repos import utcnow

        _flow_metrics = FlowRunMetrics(lambda: _current_db[0], utcnow())
        telemetry.REGISTRY.register(_flow_metrics)
    from pshub.console.connectors import ports_of

    for _, port in ports_of(c):
        instrument_port(port, getattr(port, "system", type(port).__name__.lower()))
    app.add_middleware(TraceMiddleware, service="pshub")


def _correlation_of(c: Any, workflow_id: str) -> str | None:
    from pshub.store.tables import FlowRun

    with c.db.session() as s:
        row = s.get(FlowRun, workflow_id)
        return None if row is None else row.correlation_id
