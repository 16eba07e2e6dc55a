r"""Evaluate a metric in float64 whatever the dtype of the model behind it.

A float32 decoder resolves energies only to about :math:`10^{-7}` relative,
so an iterative solver whose tolerance is finer than that stalls.  The
geodesic solvers therefore work in float64: :func:`float64_metric` returns a
metric that accepts float64 points and computes in float64 -- the metric
itself if it already does (a plain function of ``z``, a float64 module), or
a copy whose torch modules and floating tensors are converted to float64
(the same function: every float32 number is exactly a float64 number).
Only if no such copy can be made (a closure over float32 tensors) does
:func:`working_precision` let a solve run in the model's dtype, with the
tolerance raised to what that dtype resolves.
"""

from __future__ import annotations

import copy
import math
import types
from typing import NamedTuple

import torch
from torch import Tensor

from .metrics import Metric

__all__ = ["SQRT_EPS_TOL", "WorkingPrecision", "float64_metric", "working_precision"]

#: a solve in a dtype coarser than float64 uses a tolerance of at least
#: this many times the square root of the dtype's machine epsilon
SQRT_EPS_TOL = 10.0


def _evaluates_in_float64(metric: Metric, z: Tensor) -> bool:
    """Whether ``metric`` accepts float64 points and returns float64."""
    try:
        with torch.no_grad():
            M = metric.evaluate(z.to(torch.float64))
    except (TypeError, RuntimeError):
        return False
    return isinstance(M, Tensor) and M.dtype == torch.float64


def _to_float64(value: object) -> object:
    """``value`` with its torch modules / floating tensors in float64."""
    if isinstance(value, torch.nn.Module):
        return value.double()
    if isinstance(value, Tensor) and torch.is_floating_point(value):
        return value.double()
    if isinstance(value, types.MethodType) and isinstance(value.__self__,
                                                          torch.nn.Module):
        return types.MethodType(value.__func__, value.__self__.double())
    if isinstance(value, (list, tuple)):
        return type(value)(_to_float64(v) for v in value)
    return value


def float64_metric(metric: Metric, z: Tensor) -> Metric | None:
    """A metric equal to ``metric`` that computes in float64, or ``None``.

    Parameters
    ----------
    metric : Metric
    z : Tensor, shape (n, d)
        Points to try the float64 evaluation on.

    Returns
    -------
    Metric or None
        ``metric`` itself if it already evaluates float64 points in float64;
        else a deep copy with every torch module, bound method of a module
        and floating tensor among its attributes converted to float64, if
        that copy evaluates in float64; else ``None`` (e.g. a closure over
        float32 tensors, which cannot be converted).

    Notes
    -----
    Used by the geodesic solvers (:ref:`geo-vae`).

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import PullbackMetric
    >>> net = torch.nn.Linear(2, 3)                       # float32
    >>> m64 = float64_metric(PullbackMetric(net, 2), torch.zeros(1, 2))
    >>> m64.generator.weight.dtype, net.weight.dtype
    (torch.float64, torch.float32)
    """
    if _evaluates_in_float64(metric, z):
        return metric
    try:
        twin = copy.deepcopy(metric)
    except Exception:
        return None
    for name, value in vars(twin).items():
        setattr(twin, name, _to_float64(value))
    return twin if _evaluates_in_float64(twin, z) else None


class WorkingPrecision(NamedTuple):
    """What :func:`working_precision` chooses.

    Attributes
    ----------
    metric : Metric
        The metric to solve with.
    dtype : torch.dtype
        The dtype to solve in.
    tol : float
        The tolerance to use.
    """

    metric: Metric
    dtype: torch.dtype
    tol: float


def working_precision(metric: Metric, Z0: Tensor, Z1: Tensor,
                      tol: float) -> WorkingPrecision:
    r"""The metric, dtype and tolerance a geodesic solve works with.

    The float64 twin of ``metric`` (:func:`float64_metric`, tried at the
    endpoints) with ``tol`` unchanged if there is one; else ``metric``
    itself in the endpoints' dtype with the tolerance raised to

    .. math::

        \max\big(\mathtt{tol},\ \mathtt{SQRT\_EPS\_TOL}\sqrt{\epsilon}\big),

    :math:`\epsilon` the dtype's machine epsilon.

    Parameters
    ----------
    metric : Metric
    Z0, Z1 : Tensor, shape (B, d)
        Endpoints.
    tol : float
        The requested tolerance.

    Returns
    -------
    WorkingPrecision

    Notes
    -----
    Used by the geodesic solvers (chapter *Geodesics*).

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import PullbackMetric
    >>> z = torch.zeros(1, 2)
    >>> wp = working_precision(PullbackMetric(torch.nn.Linear(2, 3), 2), z, z, 1e-6)
    >>> wp.dtype, wp.tol
    (torch.float64, 1e-06)
    """
    m64 = float64_metric(metric, torch.cat([Z0, Z1]).detach())
    if m64 is not None:
        return WorkingPrecision(m64, torch.float64, tol)
    dtype = Z0.dtype
    floor = SQRT_EPS_TOL * math.sqrt(torch.finfo(dtype).eps)
    return WorkingPrecision(metric, dtype, max(tol, floor))
