"""Prometheus metrics of one server: per-stage latency, signals, impressions and feedback."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """A private registry per app, so several servers in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.stage_seconds = Histogram("ibot_stage_seconds", "Latency per stage", ["stage"], registry=self.registry, buckets=_BUCKETS)
        self.request_seconds = Histogram("ibot_request_seconds", "HTTP latency per route", ["route"], registry=self.registry, buckets=_BUCKETS)
        self.signals = Counter("ibot_signals", "Interest signals recorded", ["source"], registry=self.registry)
        self.impressions = Counter("ibot_impressions", "Recommendations shown", ["variant"], registry=self.registry)
        self.feedback = Counter("ibot_feedback", "Feedback on recommendations", ["variant", "kind"], registry=self.registry)
        self.errors = Counter("ibot_errors", "Requests that failed", ["route", "status"], registry=self.registry)

    def on_event(self, event: str, **data: Any) -> None:
        """Listener for the plugin's events."""
        if event == "stage":
            self.stage_seconds.labels(data["stage"]).observe(data["seconds"])
        elif event == "signals":
            self.signals.labels(data.get("source", "chat")).inc(data["count"])
        elif event == "impressions":
            self.impressions.labels(data.get("variant", "A")).inc(data["count"])
        elif event == "feedback":
            self.feedback.labels(data.get("variant", "A"), data["kind"]).inc()

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
