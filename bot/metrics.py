"""Prometheus metrics, one registry per process, served by the web role at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = Counter(
    "encore_commands_total", "Slash commands handled", ["command", "outcome"], registry=REGISTRY
)
SPOTIFY_CALLS = Counter(
    "encore_spotify_calls_total", "Spotify Web API calls", ["caller", "outcome"], registry=REGISTRY
)
TOKEN_REFRESHES = Counter(
    "encore_token_refreshes_total", "User token refreshes", ["outcome"], registry=REGISTRY
)
LINKS = Counter("encore_links_total", "OAuth callbacks", ["outcome"], registry=REGISTRY)
OUTBOX = Counter("encore_outbox_total", "Outbox deliveries", ["outcome"], registry=REGISTRY)
INGESTIONS = Counter(
    "encore_release_ingestions_total",
    "Release ingestions",
    ["source", "outcome"],
    registry=REGISTRY,
)
LAST_INGESTION = Gauge(
    "encore_release_ingestion_last_success_timestamp",
    "When releases were last ingested",
    registry=REGISTRY,
)
DIGESTS = Counter("encore_digests_total", "Digest posts", ["outcome"], registry=REGISTRY)
GATEWAY_CONNECTED = Gauge(
    "encore_gateway_connected", "1 while the Discord gateway is connected", registry=REGISTRY
)
