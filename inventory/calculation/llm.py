"""Impacts of third-party LLM API requests, estimated by the EcoLogits package.

Every figure comes from `ecologits`' own functions and repositories (its model repository,
electricity mixes and provider data-centre defaults); nothing of its data is typed here. A
request's impacts are min–max ranges (a model whose parameter count is a range, a provider
whose PUE or WUE is one); an aggregated record is its per-request average times its requests.
"""

from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

from ecologits.electricity_mix_repository import electricity_mixes
from ecologits.impacts.llm import compute_llm_impacts
from ecologits.model_repository import models
from ecologits.tracers.utils import PROVIDER_CONFIG_MAP, llm_impacts
from ecologits.utils.range_value import RangeValue

ECOLOGITS_VERSION = version("ecologits")
# The providers whose data centres EcoLogits describes (PUE, WUE, electricity mix zone).
ECOLOGITS_PROVIDERS = tuple(sorted(PROVIDER_CONFIG_MAP))
# Distinct (provider, model, tokens per request, latency) kept per worker process.
_CACHE_SIZE = 65_536


class UnknownLlmError(ValueError):
    """EcoLogits has no such model, and the organisation declared none."""


@dataclass(frozen=True)
class LlmImpacts:
    """Min–max ranges: energy in kWh, GWP in kg CO2e, water (EcoLogits' WCF) in litres."""

    energy_kwh: tuple[float, float]
    gwp_usage_kg: tuple[float, float]
    gwp_embodied_kg: tuple[float, float]
    water_l: tuple[float, float]

    def times(self, requests: int) -> "LlmImpacts":
        return LlmImpacts(
            energy_kwh=_scaled(self.energy_kwh, requests),
            gwp_usage_kg=_scaled(self.gwp_usage_kg, requests),
            gwp_embodied_kg=_scaled(self.gwp_embodied_kg, requests),
            water_l=_scaled(self.water_l, requests),
        )

    def flat(self) -> tuple[float, ...]:
        """min, max of energy, GWP usage, GWP embodied and water, in that order."""
        return (*self.energy_kwh, *self.gwp_usage_kg, *self.gwp_embodied_kg, *self.water_l)


def _scaled(bounds: tuple[float, float], factor: int) -> tuple[float, float]:
    return (bounds[0] * factor, bounds[1] * factor)


def _bounds(value: float | RangeValue) -> tuple[float, float]:
    if isinstance(value, RangeValue):
        return (float(value.min), float(value.max))
    return (float(value), float(value))


def _impacts(result) -> LlmImpacts:
    return LlmImpacts(
        energy_kwh=_bounds(result.usage.energy.value),
        gwp_usage_kg=_bounds(result.usage.gwp.value),
        gwp_embodied_kg=_bounds(result.embodied.gwp.value),
        water_l=_bounds(result.usage.wcf.value),
    )


def ecologits_knows(provider: str, model: str) -> bool:
    return models.find_model(provider=provider, model_name=model) is not None


@lru_cache(maxsize=_CACHE_SIZE)
def request_impacts(
    provider: str, model: str, output_tokens: float, latency_s: float | None
) -> LlmImpacts:
    """One request of a model in EcoLogits' repository (`llm_impacts`), at the provider's
    data-centre defaults. `latency_s` None: EcoLogits models the generation time alone."""
    result = llm_impacts(
        provider=provider,
        model_name=model,
        output_token_count=output_tokens,
        request_latency=latency_s,  # type: ignore[arg-type]  # None is its "not measured"
    )
    if result.has_errors:
        raise UnknownLlmError("; ".join(error.message for error in result.errors or ()))
    return _impacts(result)


@lru_cache(maxsize=_CACHE_SIZE)
def declared_request_impacts(
    provider: str,
    active_parameters_b: float,
    total_parameters_b: float,
    output_tokens: float,
    latency_s: float | None,
) -> LlmImpacts:
    """One request of a model the organisation declared (active and total parameters in
    billions), through EcoLogits' `compute_llm_impacts` with the same provider defaults and
    electricity mix `llm_impacts` uses for the provider's own models."""
    if provider not in PROVIDER_CONFIG_MAP:
        raise UnknownLlmError(
            f"EcoLogits describes no data centres of provider {provider!r}; "
            f"use one of: {', '.join(ECOLOGITS_PROVIDERS)}"
        )
    config = PROVIDER_CONFIG_MAP[provider]
    mix = electricity_mixes.find_electricity_mix(zone=config.datacenter_location or "WOR")
    result = compute_llm_impacts(
        model_active_parameter_count=active_parameters_b,
        model_total_parameter_count=total_parameters_b,
        output_token_count=output_tokens,
        request_latency=latency_s,
        if_electricity_mix_adpe=mix.adpe,
        if_electricity_mix_pe=mix.pe,
        if_electricity_mix_gwp=mix.gwp,
        if_electricity_mix_wue=mix.wue,
        datacenter_pue=config.datacenter_pue,
        datacenter_wue=config.datacenter_wue,
    )
    return _impacts(result)


def electricity_mix_zone(provider: str) -> str:
    """The zone whose mix EcoLogits applies to a provider (its data-centre location)."""
    config = PROVIDER_CONFIG_MAP.get(provider)
    return (config.datacenter_location if config else None) or "WOR"


# --- What an estimate was made with (the record browser's lineage) -------------------------

# EcoLogits' documentation of the LLM inference method its functions implement.
ECOLOGITS_METHODOLOGY_URL = "https://ecologits.ai/latest/methodology/llm_inference/"
ECOLOGITS_LICENCE = "MPL-2.0"


@dataclass(frozen=True)
class ModelParameters:
    """A model's parameter counts in billions, min–max (equal when known exactly)."""

    architecture: str  # "dense" or "moe"
    active_b: tuple[float, float]
    total_b: tuple[float, float]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ProviderDatacentre:
    """The provider's data-centre defaults EcoLogits applies, and the zone's electricity mix."""

    zone: str
    pue: tuple[float, float]
    wue_l_per_kwh: tuple[float, float]  # on-site
    mix_gwp_kg_per_kwh: float | None
    mix_wue_l_per_kwh: float | None  # off-site: the electricity's generation


def repository_parameters(provider: str, model: str) -> ModelParameters | None:
    """The counts EcoLogits' model repository gives a model; None when it has no such model."""
    found = models.find_model(provider=provider, model_name=model)
    if found is None:
        return None
    parameters = found.architecture.parameters
    active = getattr(parameters, "active", parameters)
    total = getattr(parameters, "total", parameters)
    return ModelParameters(
        architecture=str(found.architecture.type.value),
        active_b=_bounds(active),
        total_b=_bounds(total),
        warnings=tuple(warning.message for warning in found.warnings or ()),
    )


def provider_datacentre(provider: str) -> ProviderDatacentre | None:
    """EcoLogits' defaults for a provider's data centres; None for a provider it lacks."""
    config = PROVIDER_CONFIG_MAP.get(provider)
    if config is None:
        return None
    zone = electricity_mix_zone(provider)
    mix = electricity_mixes.find_electricity_mix(zone=zone)
    return ProviderDatacentre(
        zone=zone,
        pue=_bounds(config.datacenter_pue),
        wue_l_per_kwh=_bounds(config.datacenter_wue),
        mix_gwp_kg_per_kwh=float(mix.gwp) if mix else None,
        mix_wue_l_per_kwh=float(mix.wue) if mix else None,
    )
