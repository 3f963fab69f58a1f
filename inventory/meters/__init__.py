"""GPU energy meters read from an organisation's Prometheus (DCGM exporter, Kepler)."""
