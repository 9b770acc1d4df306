"""Optional OpenTelemetry propagation to plugins through the environment.

Like libcni, when the caller has an active, valid span, plugins receive ``TRACEPARENT``,
``TRACESTATE`` (if non-empty) and ``BAGGAGE`` (if non-empty) in their environment (OTEP 0258
environment carriers, W3C formats). No span is created.

pycni never imports OpenTelemetry itself: if the application has not imported
``opentelemetry.trace``, no span can be active, so :func:`trace_environ` is a dictionary look-up
and returns an empty mapping. Only the real executors call it; custom executors get no trace
variables (as in libcni).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["trace_environ"]

_propagators: list[Any] = []


def _load_propagators() -> list[Any]:
    """The W3C trace-context and baggage propagators, created on first use."""
    if not _propagators:
        from importlib import import_module

        tracecontext = import_module("opentelemetry.trace.propagation.tracecontext")
        baggage = import_module("opentelemetry.baggage.propagation")
        _propagators[:] = [
            tracecontext.TraceContextTextMapPropagator(),
            baggage.W3CBaggagePropagator(),
        ]
    return _propagators


def trace_environ() -> dict[str, str]:
    """``TRACEPARENT``/``TRACESTATE``/``BAGGAGE`` for the current span, or ``{}``.

    Empty when OpenTelemetry is not in use, when no valid span is active, or when the
    OpenTelemetry API fails in any way (tracing must never break plugin execution).
    """
    trace: Any = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return {}
    try:
        if not trace.get_current_span().get_span_context().is_valid:
            return {}
        tracecontext, baggage = _load_propagators()
        carrier: dict[str, str] = {}
        tracecontext.inject(carrier)
        baggage.inject(carrier)
    except Exception:  # pragma: no cover - a broken or partial OpenTelemetry installation
        return {}
    env = {}
    for key in ("traceparent", "tracestate", "baggage"):
        value = carrier.get(key)
        if value:
            env[key.upper()] = value
    return env
