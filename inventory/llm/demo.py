"""The demo organisation's LLM API usage: a year of hourly aggregates, two models EcoLogits
knows and one the organisation declared. Synthetic activity (requests, tokens, latency), not
factors: every impact figure comes from EcoLogits when the worker estimates them."""

import random
from datetime import datetime, timedelta

from accounts.models import Organisation
from inventory.llm.services import custom_llm_create
from inventory.models import CustomLlm

DEMO_DAYS = 365
# Mistral AI, "Mistral NeMo" (18 July 2024): "a 12B model", dense, served on la Plateforme as
# open-mistral-nemo-2407; EcoLogits 0.11.3's repository does not list it.
DEMO_CUSTOM_LLM = {
    "provider": "mistralai",
    "name": "open-mistral-nemo-2407",
    "active_parameters_b": 12,
    "total_parameters_b": 12,
    "source_note": "Mistral AI, 'Mistral NeMo' announcement (18 July 2024): a 12B dense model; "
    "https://mistral.ai/news/mistral-nemo",
}


def demo_custom_llm(*, organisation: Organisation, actor) -> CustomLlm:
    """The declared model, once (audited as the admin's)."""
    found = CustomLlm.objects.filter(
        organisation=organisation,
        provider=DEMO_CUSTOM_LLM["provider"],
        name=DEMO_CUSTOM_LLM["name"],
    ).first()
    return found or custom_llm_create(organisation=organisation, actor=actor, **DEMO_CUSTOM_LLM)


def _hour(external_id, team, application, provider, model, start, rng, requests, tokens, latency):
    output_tokens = requests * rng.randint(*tokens)
    return {
        "external_id": external_id,
        "team": team,
        "application": application,
        "provider": provider,
        "model": model,
        "input_tokens": output_tokens * rng.randint(2, 5),
        "output_tokens": output_tokens,
        "requests": requests,
        "latency_s": round(rng.uniform(*latency), 2),
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(hours=1)).isoformat(),
    }


def demo_llm_usage(today: datetime) -> list[dict]:
    """Hourly aggregates for the DEMO_DAYS before `today` (UTC midnight); each hour's rows
    derive from the hour alone, so seeding again re-sends the same rows (duplicates)."""
    rows = []
    first = today - timedelta(days=DEMO_DAYS)
    for offset in range(DEMO_DAYS * 24):
        start = first + timedelta(hours=offset)
        rng = random.Random(int(start.timestamp()) // 3600)
        daytime = 7 <= start.hour < 20
        # The support chatbot (Platform & Serving), around the clock, busier by day.
        rows.append(
            _hour(
                f"llm-chat-{start:%Y%m%d%H}",
                "platform",
                "support-chatbot",
                "openai",
                "gpt-4o-mini",
                start,
                rng,
                rng.randint(150, 420) if daytime else rng.randint(20, 90),
                (180, 420),
                (1.5, 4.0),
            )
        )
        # Ticket triage (Applied ML), working hours on weekdays, for its support classifier.
        if daytime and start.weekday() < 5:
            row = _hour(
                f"llm-triage-{start:%Y%m%d%H}",
                "applied-ml",
                "ticket-triage",
                "anthropic",
                "claude-haiku-4-5",
                start,
                rng,
                rng.randint(20, 120),
                (60, 150),
                (0.8, 2.0),
            )
            rows.append({**row, "ai_model": "support-classifier"})
        # Nightly evaluation runs (Research) on the declared model.
        if start.hour in (1, 2):
            row = _hour(
                f"llm-eval-{start:%Y%m%d%H}",
                "research",
                "eval-harness",
                DEMO_CUSTOM_LLM["provider"],
                DEMO_CUSTOM_LLM["name"],
                start,
                rng,
                rng.randint(500, 2000),
                (300, 600),
                (5.0, 9.0),
            )
            rows.append({**row, "ai_model": "atlas-7b"})
    return rows
