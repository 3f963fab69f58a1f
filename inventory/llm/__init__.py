"""Third-party LLM API usage: ingestion, declared custom models, the EcoLogits estimate and
its reads (Scope 3 category 1, shown beside the organisation's own workloads)."""
