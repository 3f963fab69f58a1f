"""The LLM usage record as sent: one request, or the requests of a window (e.g. an hour)."""

from inventory.ingestion.fields import Field, RecordSchema, integer, number, slug, text, timestamp
from inventory.ingestion.schemas import MAX_DURATION_S, period_check

# Far above any real window (a million requests an hour, 10M tokens a request).
MAX_REQUESTS = 2_000_000_000
MAX_TOKENS = 10**15


LLM_USAGE = RecordSchema(
    name="llm_usage",
    fields=(
        Field("external_id", text(200), required=True),
        Field("team", slug(60), required=True),
        Field("provider", text(60), required=True),
        Field("model", text(160), required=True),
        Field("input_tokens", integer(min_value=0, max_value=MAX_TOKENS), default=0),
        Field("output_tokens", integer(min_value=0, max_value=MAX_TOKENS), required=True),
        Field("requests", integer(min_value=1, max_value=MAX_REQUESTS), default=1),
        Field("latency_s", number(min_value=0, max_value=MAX_DURATION_S)),
        Field("started_at", timestamp(), required=True),
        Field("ended_at", timestamp(), required=True),
        Field("application", text(200)),
        Field("ai_model", text(160)),
    ),
    checks=(period_check("started_at", "ended_at"),),
)
