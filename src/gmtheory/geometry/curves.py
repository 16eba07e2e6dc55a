r"""Discrete curves in latent space: length and energy under a metric.

A curve is a polyline ``gamma`` of shape ``(T + 1, d)`` -- the points
:math:`\gamma(t_k)` at equally spaced times :math:`t_k = k/T` on
:math:`[0, 1]` -- or a batch of them, shape ``(B, T + 1, d)``.  With
:math:`\Delta_k = \gamma_{k+1} - \gamma_k` and the metric evaluated at the
segment midpoints :math:`\bar\gamma_k`:

.. math::

    L(\gamma) \approx \sum_{k=0}^{T-1} \sqrt{\Delta_k^\top M(\bar\gamma_k)\Delta_k},
    \qquad
    E(\gamma) \approx T \sum_{k=0}^{T-1} \Delta_k^\top M(\bar\gamma_k)\Delta_k .

Both are midpoint-rule approximations of
:math:`\int_0^1\|\dot\gamma\|_{\gamma}\,dt` and
:math:`\int_0^1\|\dot\gamma\|_{\gamma}^2\,dt` with :math:`O(T^{-2})` error for
smooth curves, and the discrete versions obey :math:`L^2 \le E` exactly
(Cauchy--Schwarz), with equality iff every segment has the same length.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..validation import as_float_tensor, validate_finite, validate_positive_int
from .jacobian import call_checked, validate_callable, validate_module_dtype, validate_output
from .metrics import Metric

__all__ = [
    "validate_curve",
    "segment_lengths",
    "segment_squared_speeds",
    "curve_length",
    "curve_energy",
    "decoded_length",
    "straight_line",
    "refine_polyline",
]


def validate_curve(gamma: Tensor, dim: int | None = None, name: str = "gamma") -> Tensor:
    """Validate a curve ``(T + 1, d)`` or a batch of curves ``(B, T + 1, d)``.

    Returns the curves as a batch of shape ``(B, T + 1, d)``.
    """
    g = validate_finite(as_float_tensor(gamma, name), name)
    if g.ndim == 2:
        g = g.unsqueeze(0)
    if g.ndim != 3:
        raise ValueError(
            f"{name} must have shape (T + 1, d) or (B, T + 1, d), got "
            f"{tuple(g.shape)}."
        )
    if g.shape[1] < 2:
        raise ValueError(f"{name} needs at least 2 points per curve, got {g.shape[1]}.")
    if dim is not None and g.shape[2] != dim:
        raise ValueError(
            f"{name} lives in dimension {g.shape[2]} but the metric expects {dim}."
        )
    return g


def _squared_speeds(metric: Metric, gamma: Tensor) -> Tensor:
    """Squared Riemannian segment lengths ``Delta^T M(mid) Delta``, shape (B, T)."""
    if not isinstance(metric, Metric):
        raise TypeError(f"metric must be a gmtheory Metric, got {type(metric).__name__}.")
    g = validate_curve(gamma, metric.dim)
    B, T1, d = g.shape
    delta = g[:, 1:] - g[:, :-1]
    mid = 0.5 * (g[:, 1:] + g[:, :-1])
    M = metric.metric_tensor(mid.reshape(-1, d)).reshape(B, T1 - 1, d, d)
    return torch.einsum("bti,btij,btj->bt", delta, M, delta).clamp_min(0.0)


def segment_squared_speeds(metric: Metric, curves: Tensor) -> Tensor:
    r"""Unchecked squared segment lengths :math:`\Delta_k^\top M(\bar\gamma_k)\Delta_k`.

    For the solvers' inner loops: no validation, and each term comes from
    :meth:`Metric.evaluate_squared_speeds
    <gmtheory.geometry.metrics.Metric.evaluate_squared_speeds>` (for a
    pullback metric one Jacobian-vector product per segment instead of the
    full Jacobian).  Differentiable in ``curves``.

    Parameters
    ----------
    metric : Metric
    curves : Tensor, shape (B, T + 1, d)
        Validated curves.

    Returns
    -------
    Tensor, shape (B, T)
        Not clamped: a metric that is not positive semi-definite by
        construction may give tiny negative values.

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import ConstantMetric
    >>> m = ConstantMetric(torch.diag(torch.tensor([4.0, 1.0])))
    >>> segment_squared_speeds(m, torch.tensor([[[0.0, 0.0], [1.0, 1.0]]]))
    tensor([[5.]])
    """
    B, T1, d = curves.shape
    mid = (0.5 * (curves[:, 1:] + curves[:, :-1])).reshape(-1, d)
    delta = (curves[:, 1:] - curves[:, :-1]).reshape(-1, d)
    return metric.evaluate_squared_speeds(mid, delta).reshape(B, T1 - 1)


def segment_lengths(metric: Metric, gamma: Tensor) -> Tensor:
    """Riemannian lengths of the segments of a curve, shape ``(B, T)``.

    Notes
    -----
    Derived in :ref:`pb-curves`.
    """
    return _squared_speeds(metric, gamma).sqrt()


def curve_length(metric: Metric, gamma: Tensor) -> Tensor:
    r"""Length :math:`\sum_k \|\Delta_k\|_{M(\bar\gamma_k)}` of each curve.

    Parameters
    ----------
    metric : Metric
    gamma : Tensor, shape (T + 1, d) or (B, T + 1, d)

    Returns
    -------
    Tensor, shape (B,)

    Notes
    -----
    Derived in :ref:`pb-curves`.

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import ConstantMetric
    >>> m = ConstantMetric(torch.diag(torch.tensor([4.0, 1.0])))
    >>> curve_length(m, straight_line(torch.zeros(2), torch.tensor([1.0, 0.0]), 10))
    tensor([2.])
    """
    return segment_lengths(metric, gamma).sum(dim=1)


def curve_energy(metric: Metric, gamma: Tensor) -> Tensor:
    r"""Energy :math:`T\sum_k \Delta_k^\top M(\bar\gamma_k)\Delta_k` of each curve on :math:`[0,1]`.

    Returns
    -------
    Tensor, shape (B,)

    Notes
    -----
    Derived in :ref:`pb-curves`; :ref:`pb-energy` shows that it depends on
    the parametrisation while the length does not.
    """
    sq = _squared_speeds(metric, gamma)
    return sq.shape[1] * sq.sum(dim=1)


def decoded_length(generator: Callable[[Tensor], Tensor], gamma: Tensor) -> Tensor:
    r"""Length of the decoded polyline :math:`\sum_k\|f(\gamma_{k+1}) - f(\gamma_k)\|`.

    This is the length measured in data space by chords; for a fine
    discretisation it converges to the pullback length from below.

    Parameters
    ----------
    generator : callable
        Maps ``(n, d)`` to ``(n, D)`` (a torch module or function).
    gamma : Tensor, shape (T + 1, d) or (B, T + 1, d)

    Returns
    -------
    Tensor, shape (B,)

    Raises
    ------
    TypeError
        If ``generator`` is not callable, does not return a tensor, or
        computes in another dtype than ``gamma``.
    ValueError
        If ``gamma`` is malformed or the generator returns NaN or infinite
        values on it.

    Notes
    -----
    Used in :ref:`lv-three-distances` and, against :func:`curve_length`, in
    :ref:`pb-length`.

    Examples
    --------
    >>> import torch
    >>> decoded_length(lambda z: 3 * z, torch.tensor([[0.0], [1.0], [2.0]]))
    tensor([6.])
    """
    validate_callable(generator, "generator")
    g = validate_curve(gamma)
    B, T1, d = g.shape
    flat = g.reshape(-1, d)
    validate_module_dtype(generator, flat, "generator")
    x = validate_output(call_checked(generator, flat, "generator"), flat, "generator")
    x = x.reshape(B, T1, -1)
    return (x[:, 1:] - x[:, :-1]).norm(dim=2).sum(dim=1)


def straight_line(z0: Tensor, z1: Tensor, steps: int) -> Tensor:
    r"""The straight latent line :math:`(1-t) z_0 + t z_1` at ``steps + 1`` points.

    Parameters
    ----------
    z0, z1 : Tensor, shape (d,)
    steps : int
        Number of segments ``T``.

    Returns
    -------
    Tensor, shape (steps + 1, d)
    """
    a = validate_finite(as_float_tensor(z0, "z0"), "z0")
    b = validate_finite(as_float_tensor(z1, "z1"), "z1")
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"z0 and z1 must be points of the same shape (d,), got "
            f"{tuple(a.shape)} and {tuple(b.shape)}."
        )
    steps = validate_positive_int(steps, "steps")
    t = torch.linspace(0.0, 1.0, int(steps) + 1, dtype=a.dtype).unsqueeze(1)
    return (1 - t) * a + t * b


def refine_polyline(gamma: Tensor, per_segment: int) -> Tensor:
    r"""Subdivide every segment of a polyline into ``per_segment`` equal pieces.

    The refined polyline is the *same curve* (same points, same straight
    segments), with ``T * per_segment + 1`` points, so that
    :func:`curve_length`, whose midpoint rule evaluates the metric once per
    segment, measures it accurately even when the original segments are long
    (for example shortest paths in a neighbourhood graph).

    Parameters
    ----------
    gamma : Tensor, shape (T + 1, d)
    per_segment : int
        Number of pieces per original segment (``>= 1``).

    Returns
    -------
    Tensor, shape (T * per_segment + 1, d)

    Examples
    --------
    >>> import torch
    >>> refine_polyline(torch.tensor([[0.0, 0.0], [2.0, 0.0]]), 2)
    tensor([[0., 0.],
            [1., 0.],
            [2., 0.]])
    """
    g = validate_curve(gamma)
    if g.shape[0] != 1:
        raise ValueError("refine_polyline takes one curve of shape (T + 1, d), "
                         f"got a batch of {g.shape[0]}.")
    per_segment = validate_positive_int(per_segment, "per_segment")
    g = g[0]
    s = torch.arange(int(per_segment), dtype=g.dtype) / per_segment
    a, b = g[:-1], g[1:]
    pieces = a[:, None, :] + s[None, :, None] * (b - a)[:, None, :]
    return torch.cat([pieces.reshape(-1, g.shape[1]), g[-1:]], dim=0)
