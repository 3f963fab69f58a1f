"""Input checks shared by the formulas: each raises CalculationError naming the bad input."""

import functools
import math
from collections.abc import Callable
from typing import ParamSpec

from inventory.calculation.errors import CalculationError


def number(name: str, value: object) -> float:
    """The value as a float, if it is a finite int or float.

    Converted to float so every step rounds as a double, as in the SQL pipeline. bool is
    refused (True is not a quantity) and so is Decimal: Decimal arithmetic would give other
    figures than the pipeline's double precision.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalculationError(f"{name} must be a number, got {value!r}")
    try:
        converted = float(value)
    except OverflowError:
        raise CalculationError(f"{name} is too large for a double, got {value!r}") from None
    if not math.isfinite(converted):
        raise CalculationError(f"{name} must be finite, got {value!r}")
    return converted


def non_negative(name: str, value: object) -> float:
    checked = number(name, value)
    if checked < 0:
        raise CalculationError(f"{name} must not be negative, got {value!r}")
    return checked


def fraction(name: str, value: object) -> float:
    checked = number(name, value)
    if not 0.0 <= checked <= 1.0:
        raise CalculationError(f"{name} must be between 0 and 1, got {value!r}")
    return checked


def pue(name: str, value: object) -> float:
    # A PUE below 1 would mean the facility used less energy than its IT load: a data error.
    checked = number(name, value)
    if checked < 1.0:
        raise CalculationError(f"{name} must be at least 1.0, got {value!r}")
    return checked


def count(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CalculationError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise CalculationError(f"{name} must be at least {minimum}, got {value!r}")
    return value


P = ParamSpec("P")


def finite_result(formula: Callable[P, float]) -> Callable[P, float]:
    """Refuse a result that overflowed to infinity from finite but absurd inputs."""

    @functools.wraps(formula)
    def checked(*args: P.args, **kwargs: P.kwargs) -> float:
        result = formula(*args, **kwargs)
        if not math.isfinite(result):
            raise CalculationError(f"{formula.__name__} overflowed: the inputs are too large")
        return result

    return checked
