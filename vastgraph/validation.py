"""The one home of argument checks: every public entry point validates its scalars through these,
so a bad value raises :class:`~vastgraph.errors.ValidationError` naming the parameter and the range.

Example:
    >>> check_int("walk_length", 80, 1)
    80
    >>> check_float("p", 0.25)
    0.25
    >>> check_float("mu", 0.0, 0.0, 2.0, low_open=False)
    0.0
    >>> check_int("dimensions", 0, 1)
    Traceback (most recent call last):
    ...
    vastgraph.errors.ValidationError: dimensions=0: expected an integer >= 1
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from vastgraph.errors import ValidationError

ProgressFn = Callable[[float, float], Any]

__all__ = ["ProgressFn", "check_float", "check_int", "check_positive", "check_progress"]


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (``high=None``: no upper bound), else a
    :class:`ValidationError` naming ``name``. Booleans and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValidationError(f"{name}={value!r}: expected an integer >= {low}")
    if value < low or (high is not None and value > high):
        rng = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValidationError(f"{name}={value!r}: expected an integer {rng}")
    return int(value)


def check_float(name: str, value: Any, low: float = 0.0, high: float | None = None, *,
                low_open: bool = True, high_open: bool = False) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (``None``: unbounded);
    ``low_open``/``high_open`` exclude the end points. NaN and infinities are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValidationError(f"{name}={value!r}: expected a number")
    v = float(value)
    hi = math.inf if high is None else float(high)
    bad = (not math.isfinite(v) or v < low or v > hi or (low_open and v == low)
           or (high_open and v == hi))
    if bad:
        lo_b = "(" if low_open else "["
        hi_b = ")" if (high_open or high is None) else "]"
        raise ValidationError(f"{name}={value!r}: expected a finite number in "
                              f"{lo_b}{low}, {high if high is not None else 'inf'}{hi_b}")
    return v


def check_positive(name: str, value: Any) -> float:
    """``value`` as a float that is finite and > 0 (numeric strings are accepted)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name}={value!r}: expected a finite number > 0") from None
    if not math.isfinite(v) or v <= 0.0:
        raise ValidationError(f"{name}={value!r}: expected a finite number > 0")
    return v


def check_progress(progress: Any) -> ProgressFn | None:
    """``progress`` if it is None or callable as ``progress(done_fraction, mean_loss)``."""
    if progress is not None and not callable(progress):
        raise ValidationError(f"progress={progress!r}: expected None or a callable(done_fraction, mean_loss)")
    return progress
