"""The one error the calculation engine raises."""


class CalculationError(ValueError):
    """Inputs the formulas cannot turn into a figure (missing, negative, NaN, out of range).

    A ValueError, so callers that already treat bad values as bad requests keep working.
    """
