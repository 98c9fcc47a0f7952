"""Traces across a command: the API request, the Temporal client's call, the workflow and its activities (the SDK's
OpenTelemetry interceptor carries the context through Temporal), and the SQL of the append. Exported by OTLP when
PACTE_OTLP_ENDPOINT is set; log lines carry the trace id either way."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from temporalio.contrib.opentelemetry import TracingInterceptor

from pacte.settings import Settings

_configured: list[TracerProvider] = []


def configure_tracing(settings: Settings, exporter: SpanExporter | None = None) -> bool:
    """Install the tracer provider once per process: OTLP to ``settings.otlp_endpoint``, or the exporter given (the
    tests' in-memory one). Without either, nothing is recorded (OpenTelemetry's no-op)."""
    if _configured:
        return True
    if exporter is None and not settings.otlp_endpoint:
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
    trace.set_tracer_provider(provider)
    _configured.append(provider)
    return True


def temporal_interceptors() -> list[TracingInterceptor]:
    """The SDK's tracing interceptor, for the client (and so for the worker built on it), once tracing is on."""
    return [TracingInterceptor()] if _configured else []


def instrument_api(app: Any) -> None:
    if _configured:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, tracer_provider=_configured[0])


def add_trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: the current trace and span ids on every log line, to find a line's trace."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event
