"""Prometheus metrics, one registry per process.

The web role serves them at /metrics; every role also serves them on METRICS_HOST:METRICS_PORT
when that port is set (`bot.observability`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = Counter(
    "encore_commands_total",
    "Slash commands handled, by outcome: ok, or the error a member was shown",
    ["command", "outcome"],
    registry=REGISTRY,
)
COMMANDS_WAITING = Gauge(
    "encore_commands_waiting",
    "Slash commands acknowledged and waiting for their turn (bot.ui.admission)",
    registry=REGISTRY,
)
COMMAND_DURATION = Histogram(
    "encore_command_duration_seconds",
    "Time from a slash command reaching Encore to its handler finishing",
    ["command"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
SPOTIFY_CALLS = Counter(
    "encore_spotify_calls_total", "Spotify Web API calls", ["caller", "outcome"], registry=REGISTRY
)
TOKEN_REFRESHES = Counter(
    "encore_token_refreshes_total", "User token refreshes", ["outcome"], registry=REGISTRY
)
LINKS = Counter("encore_links_total", "OAuth callbacks", ["outcome"], registry=REGISTRY)
OUTBOX = Counter("encore_outbox_total", "Outbox deliveries", ["outcome"], registry=REGISTRY)
DISCORD_BUDGET_CLAIMS = Counter(
    "encore_discord_budget_claims_total",
    "Batches of slots claimed from the bot's shared global rate budget",
    registry=REGISTRY,
)
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
MESSAGES_REFUSED = Counter(
    "encore_messages_refused_total",
    "Messages Discord refused as built (400): each one is a bug in Encore",
    ["what"],
    registry=REGISTRY,
)
GATEWAY_CONNECTED = Gauge(
    "encore_gateway_connected", "1 while the Discord gateway is connected", registry=REGISTRY
)
GATEWAY_SHARDS = Gauge(
    "encore_gateway_shards_connected", "Shards of this process connected", registry=REGISTRY
)
INFO = Gauge(
    "encore_info", "This process: its version and role", ["version", "role"], registry=REGISTRY
)
HEARTBEAT = Gauge(
    "encore_heartbeat_last_success_timestamp",
    "When this process last recorded its heartbeat in PostgreSQL",
    registry=REGISTRY,
)
SCHEDULER_LAST_TICK = Gauge(
    "encore_scheduler_last_tick_timestamp", "When a scheduled job last ran", registry=REGISTRY
)
OUTBOX_PENDING = Gauge(
    "encore_outbox_pending", "Direct messages waiting in the outbox", registry=REGISTRY
)
