r"""Riemannian metrics on a latent space: one abstraction, several kinds.

Every metric in :mod:`gmtheory` is a :class:`Metric`: an object that, given a
batch of latent points ``z`` of shape ``(n, d)``, returns the metric tensors
``M(z)`` of shape ``(n, d, d)``.  Curve length and energy
(:mod:`gmtheory.geometry.curves`) and the geodesic solvers are written against this
interface only, so a pullback metric, an expected metric of a stochastic
generator and a closed-form metric of an analytic surface all plug into the
same code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import torch
from torch import Tensor
from torch.func import jacfwd, jvp, vmap

from ..validation import (
    as_float_tensor,
    validate_finite,
    validate_points,
    validate_positive_int,
    validate_same_dtype,
)
from .connection import christoffel_from_derivative, geodesic_acceleration
from .jacobian import (
    Generator,
    single_point,
    validate_callable,
    validate_generator,
    vmap_jacobian,
)

__all__ = [
    "Metric",
    "PullbackMetric",
    "ConstantMetric",
    "FunctionMetric",
    "pullback_taylor_error",
    "validate_metric",
    "validate_positive_definite",
]

#: relative eigenvalue threshold below which a metric tensor counts as singular
SINGULAR_RTOL = 1e-10


def validate_metric(metric: object, name: str = "metric") -> Metric:
    """Raise ``TypeError`` unless ``metric`` is a :class:`gmtheory.Metric`."""
    if not isinstance(metric, Metric):
        raise TypeError(
            f"{name} must be a gmtheory Metric (PullbackMetric, FunctionMetric, "
            f"ConstantMetric, ...), got {type(metric).__name__}."
        )
    return metric


def validate_positive_definite(M: Tensor, z: Tensor, what: str = "the path") -> None:
    """Raise ``ValueError`` if any metric tensor in the batch ``M`` is singular.

    A tensor counts as singular when its smallest eigenvalue is below
    ``SINGULAR_RTOL`` times its largest (or is not positive).
    """
    M = M.detach()
    ev = torch.linalg.eigvalsh(0.5 * (M + M.transpose(-1, -2)))
    top = ev[..., -1].clamp_min(torch.finfo(M.dtype).tiny)
    bad = (ev[..., 0] <= SINGULAR_RTOL * top) | ~torch.isfinite(ev).all(-1)
    if bool(bad.any()):
        k = int(bad.nonzero()[0, 0])
        point = [round(float(x), 6) for x in z.detach().reshape(-1, z.shape[-1])[k]]
        raise ValueError(
            f"the metric is singular (not positive definite) on {what}: at "
            f"z = {point} its eigenvalues are "
            f"{[float(f'{e:.3g}') for e in ev.reshape(-1, ev.shape[-1])[k]]}. "
            "Geodesics need a positive definite metric M(z); for a pullback "
            "metric this means the generator's Jacobian must have full column "
            "rank d (an immersion). Use a smaller latent dimension, a smooth "
            "generator, or stay away from the singular points."
        )


class Metric(ABC):
    r"""A field of symmetric positive semi-definite matrices on :math:`\mathbb R^d`.

    This is the one extension point of the geometry: a subclass writes
    :meth:`evaluate` and, with that alone, plugs into curve length and
    energy, the geodesic equation and every geodesic solver.  The
    ``evaluate*`` methods are *unchecked* (validated inputs in, no checks,
    traceable by ``torch.func``); the solvers call them in their inner
    loops.  Their defaults differentiate :meth:`evaluate` with
    ``torch.func``; a subclass overrides one when it knows a cheaper route
    (:class:`PullbackMetric` and
    :class:`~gmtheory.geometry.expected_metric.ExpectedMetric` compute
    squared speeds with Jacobian-vector products).  The other public methods
    validate their input, check the values and build on the same methods.
    A metric defined through maps (a generator) checks them once, on the
    first validated call (:meth:`validate_maps`).

    .. math::

        \langle u, v\rangle_z = u^\top M(z)\, v, \qquad
        \|v\|_z = \sqrt{v^\top M(z)\, v} .

    Parameters
    ----------
    dim : int
        Latent dimension ``d``.
    """

    #: whether :meth:`evaluate` is positive semi-definite by construction
    #: (``J^T J``); if not, public methods check the eigenvalues
    psd_by_construction = True
    #: whether :meth:`validate_maps` has run (once per metric)
    _maps_validated = False

    def __init__(self, dim: int):
        self.dim = validate_positive_int(dim, "dim")

    # -- unchecked evaluation: the extension point ---------------------------

    @abstractmethod
    def evaluate(self, z: Tensor) -> Tensor:
        """Metric tensors at validated points ``z`` (n, d) -> (n, d, d).

        Unchecked: no validation inside, traceable by ``torch.func``.  The
        one method a subclass must write.
        """

    def evaluate_derivative(self, z: Tensor) -> Tensor:
        r"""Unchecked :math:`\partial M_{ij}/\partial z_k`, ``[n, i, j, k]``.

        Default: forward-mode ``torch.func`` through :meth:`evaluate`.
        """
        return vmap(jacfwd(single_point(self.evaluate)))(z)

    def _evaluate_with_derivative(self, z: Tensor) -> tuple[Tensor, Tensor]:
        r"""Unchecked :math:`(M(z), \partial M/\partial z)`, in one pass if possible.

        With the default :meth:`evaluate_derivative`, the forward-mode pass
        that differentiates :meth:`evaluate` computes :math:`M(z)` as its
        primal: it is returned as ``jacfwd``'s auxiliary output instead of
        being evaluated a second time: the same operations on the same
        values, hence bit-for-bit the same tensors, at about 80-85 % of the
        cost of the two calls (reverse-mode gradients taken through them
        may differ in the last bit, the graph being shared). A subclass
        that overrides :meth:`evaluate_derivative` gets the two calls.
        """
        if type(self).evaluate_derivative is not Metric.evaluate_derivative:
            return self.evaluate(z), self.evaluate_derivative(z)
        single = single_point(self.evaluate)

        def value_and_aux(x: Tensor) -> tuple[Tensor, Tensor]:
            M = single(x)
            return M, M

        dM, M = vmap(jacfwd(value_and_aux, has_aux=True))(z)
        return M, dM

    def evaluate_christoffel(self, z: Tensor) -> Tensor:
        r"""Unchecked Christoffel symbols :math:`\Gamma^k_{ij}`, ``[n, k, i, j]``."""
        return christoffel_from_derivative(*self._evaluate_with_derivative(z))

    def evaluate_geodesic_rhs(self, z: Tensor, v: Tensor,
                              form: str = "kronecker") -> Tensor:
        r"""Unchecked geodesic acceleration :math:`F(z, v)`, shape ``(n, d)``.

        ``form="kronecker"`` is the vec/Kronecker expression,
        ``"christoffel"`` contracts :meth:`evaluate_christoffel`.
        """
        if form == "kronecker":
            return geodesic_acceleration(*self._evaluate_with_derivative(z), v)
        G = self.evaluate_christoffel(z)
        return -torch.einsum("nkij,ni,nj->nk", G, v, v)

    def evaluate_squared_speeds(self, z: Tensor, dz: Tensor) -> Tensor:
        r"""Unchecked :math:`\Delta_n^\top M(z_n)\Delta_n`, shape ``(n,)``.

        The terms of the discrete curve energy; override it when
        :math:`\|\cdot\|_z` has a cheaper route than the full tensor.
        """
        return torch.einsum("ni,nij,nj->n", dz, self.evaluate(z), dz)

    def validate_maps(self, z: Tensor) -> None:  # noqa: B027  (an optional hook)
        """Check the maps that define the metric at the first points seen.

        Called once, from the first validated call, with points ``(n, d)``;
        raises on a map of the wrong shape or dtype.  Default: nothing to
        check.
        """

    # -- validated, public --------------------------------------------------

    def _points(self, z: Tensor, name: str = "z") -> Tensor:
        """Validate points ``(n, d)`` before they reach :meth:`evaluate`."""
        z = validate_points(z, name, dim=self.dim)
        if not self._maps_validated:
            self.validate_maps(z.detach())
            self._maps_validated = True
        return z

    def _checked_metric(self, z: Tensor) -> Tensor:
        """:meth:`evaluate` at validated points, with its values checked.

        Every public method goes through here, so a metric that is NaN or
        infinite (a generator that overflows) or that is not a symmetric
        ``(n, d, d)`` tensor raises wherever it happens, not only at the
        first point ever evaluated.
        """
        try:
            M = self.evaluate(z)
        except RuntimeError as err:  # a dtype or shape mismatch inside torch
            raise TypeError(
                f"{type(self).__name__} could not be evaluated at points of "
                f"shape {tuple(z.shape)} and dtype {z.dtype}: {err}. Give the "
                "points the dtype and dimension that the metric's map expects."
            ) from err
        n, d = z.shape
        if not isinstance(M, Tensor) or M.shape != (n, d, d):
            shape = tuple(M.shape) if isinstance(M, Tensor) else type(M).__name__
            raise ValueError(
                f"{type(self).__name__} must give metric tensors of shape "
                f"(n, d, d) = ({n}, {d}, {d}); it gave {shape}."
            )
        values = M.detach()
        bad = ~torch.isfinite(values).flatten(1).all(dim=1)
        if bool(bad.any()):
            first = int(bad.nonzero()[0, 0])
            raise ValueError(
                f"the metric is NaN or infinite at {int(bad.sum())} of {n} "
                f"points, the first at z = {z[first].tolist()}: the map that "
                "defines it overflows or is not differentiable there. Evaluate "
                "it at points where it is finite (e.g. in a smaller region)."
            )
        scale = values.abs().flatten(1).amax(dim=1).clamp_min(
            torch.finfo(values.dtype).tiny)
        asym = (values - values.transpose(1, 2)).abs().flatten(1).amax(dim=1)
        tol = 64 * d * torch.finfo(values.dtype).eps
        if bool((asym > tol * scale).any()):
            raise ValueError(
                f"{type(self).__name__} is not symmetric: |M - M^T| reaches "
                f"{float((asym / scale).max()):.3g} of max|M|. A metric tensor "
                "must be symmetric; symmetrise it, e.g. 0.5 * (M + M^T)."
            )
        if not self.psd_by_construction:
            lam = torch.linalg.eigvalsh(0.5 * (values + values.transpose(1, 2)))
            low = lam[:, 0] / scale
            if bool((low < -tol).any()):
                first = int((low < -tol).nonzero()[0, 0])
                raise ValueError(
                    f"{type(self).__name__} is not positive semi-definite: at "
                    f"z = {z[first].tolist()} its smallest eigenvalue is "
                    f"{float(lam[first, 0]):.3g}. A metric tensor needs "
                    "eigenvalues >= 0."
                )
        return M

    def metric_tensor(self, z: Tensor) -> Tensor:
        """Metric tensors ``M(z)`` at a batch of points.

        Parameters
        ----------
        z : Tensor, shape (n, d)

        Returns
        -------
        Tensor, shape (n, d, d)

        Raises
        ------
        ValueError
            If ``z`` is not a finite ``(n, d)`` batch, or the metric is NaN,
            infinite or not symmetric at some point.
        """
        z = self._points(z)
        return self._checked_metric(z)

    __call__ = metric_tensor

    def inner(self, z: Tensor, u: Tensor, v: Tensor) -> Tensor:
        r"""Inner products :math:`u_i^\top M(z_i) v_i`, shape ``(n,)``."""
        z = self._points(z)
        u = validate_same_dtype(validate_points(u, "u", dim=self.dim), z, "u", "z")
        v = validate_same_dtype(validate_points(v, "v", dim=self.dim), z, "v", "z")
        if not (z.shape[0] == u.shape[0] == v.shape[0]):
            raise ValueError(
                "z, u and v must have the same number of rows, got "
                f"{z.shape[0]}, {u.shape[0]} and {v.shape[0]}."
            )
        return torch.einsum("ni,nij,nj->n", u, self._checked_metric(z), v)

    def norm(self, z: Tensor, v: Tensor) -> Tensor:
        r"""Riemannian norms :math:`\|v_i\|_{z_i}`, shape ``(n,)``."""
        return self.inner(z, v, v).clamp_min(0.0).sqrt()

    def magnification(self, z: Tensor) -> Tensor:
        r"""Magnification factor :math:`\sqrt{\det M(z)}`, shape ``(n,)``.

        It is the factor by which a small latent area (volume) is scaled on
        the manifold; for a pullback metric it equals the product of the
        singular values of the Jacobian.
        """
        det = torch.linalg.det(self.metric_tensor(z))
        return det.clamp_min(0.0).sqrt()

    def metric_derivative(self, z: Tensor) -> Tensor:
        r"""Derivative of the metric, :math:`\partial M_{ij}/\partial z_k`.

        Computed by :meth:`evaluate_derivative` (by default exactly, with
        ``torch.func`` in forward mode through :meth:`evaluate`).

        Returns
        -------
        Tensor, shape (n, d, d, d)
            Entry ``[n, i, j, k]`` is :math:`\partial M_{ij}(z_n)/\partial z_k`.
        """
        z = self._points(z)
        self._checked_metric(z)
        try:
            dM = self.evaluate_derivative(z)
        except RuntimeError as err:
            raise TypeError(
                "the metric could not be differentiated with torch.func: "
                f"{err}. Write it with differentiable torch operations."
            ) from err
        return validate_finite(dM, "the derivative of the metric")

    def christoffel(self, z: Tensor) -> Tensor:
        r"""Christoffel symbols :math:`\Gamma^k_{ij}(z_n)`, ``[n, k, i, j]``.

        Raises ``ValueError`` for bad points or where the metric is singular.
        """
        z = self._points(z)
        validate_positive_definite(self._checked_metric(z), z, "the points z")
        return self.evaluate_christoffel(z)

    def geodesic_rhs(self, z: Tensor, v: Tensor, form: str = "kronecker") -> Tensor:
        r"""Geodesic acceleration :math:`F(z_n, v_n)`, shape ``(n, d)``.

        Raises ``ValueError`` for bad shapes, an unknown ``form`` or a
        singular metric.
        """
        if form not in ("kronecker", "christoffel"):
            raise ValueError(
                f"form must be 'kronecker' or 'christoffel', got {form!r}."
            )
        z = self._points(z)
        v = validate_points(v, "v", dim=self.dim)
        if z.shape != v.shape:
            raise ValueError(
                f"z and v must have the same shape (n, {self.dim}), got "
                f"{tuple(z.shape)} and {tuple(v.shape)}."
            )
        validate_positive_definite(self._checked_metric(z), z, "the points z")
        return self.evaluate_geodesic_rhs(z, v.to(z.dtype), form)


class PullbackMetric(Metric):
    r"""The metric a generator induces on its latent space.

    .. math::

        M(z) = J_f(z)^\top J_f(z), \qquad
        \|f(z + \Delta z) - f(z)\|^2 = \Delta z^\top M(z)\, \Delta z
        + O(\|\Delta z\|^3).

    :math:`M(z)` is symmetric positive *semi*-definite; it is positive
    definite exactly where :math:`J_f(z)` has full column rank ``d``.

    Parameters
    ----------
    generator : callable
        Maps ``(n, d)`` to ``(n, D)`` with differentiable torch operations.
    dim : int
        Latent dimension ``d``.

    Notes
    -----
    Derived in :ref:`pb-definition`.

    Examples
    --------
    >>> import torch
    >>> f = lambda z: torch.cat([z, (z ** 2).sum(1, keepdim=True)], dim=1)
    >>> PullbackMetric(f, dim=2)(torch.tensor([[1.0, 0.0]]))
    tensor([[[5., 0.],
             [0., 1.]]])
    """

    def __init__(self, generator: Generator, dim: int):
        super().__init__(dim)
        validate_callable(generator, "generator")
        self.generator = generator

    def jacobian(self, z: Tensor) -> Tensor:
        """Jacobian of the generator, shape ``(n, D, d)``.

        Raises ``ValueError`` if it is NaN or infinite at some point.
        """
        z = self._points(z)
        J = vmap_jacobian(self.generator, z, "generator")
        return validate_finite(J, "the Jacobian of the generator")

    def validate_maps(self, z: Tensor) -> None:
        validate_generator(self.generator, z, "generator")

    def evaluate(self, z: Tensor) -> Tensor:
        J = vmap_jacobian(self.generator, z, "generator")
        return J.transpose(1, 2) @ J

    def evaluate_squared_speeds(self, z: Tensor, dz: Tensor) -> Tensor:
        r""":math:`\|J(z_n)\Delta_n\|^2` by one Jacobian-vector product each."""
        single = single_point(self.generator)
        Jd = vmap(lambda x, u: jvp(single, (x,), (u,))[1])(z, dz)
        return (Jd ** 2).sum(-1)


class ConstantMetric(Metric):
    r"""A constant metric :math:`M(z) = A`: the Mahalanobis special case.

    For :math:`A = \Sigma^{-1}` the distance is the Mahalanobis distance
    :math:`\sqrt{(z_1 - z_0)^\top \Sigma^{-1} (z_1 - z_0)}`, and geodesics are
    straight lines.  It is also the pullback metric of the linear map
    :math:`f(z) = Lz` with :math:`A = L^\top L`.

    Parameters
    ----------
    matrix : Tensor, shape (d, d)
        Symmetric positive definite.

    Notes
    -----
    Derived in :ref:`pb-mahalanobis`.

    Examples
    --------
    >>> import torch
    >>> m = ConstantMetric(torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
    >>> m.norm(torch.zeros(1, 2), torch.tensor([[1.0, 1.0]]))
    tensor([1.7321])
    """

    def __init__(self, matrix: Tensor):
        A = validate_finite(as_float_tensor(matrix, "matrix"), "matrix")
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"matrix must be square (d, d), got {tuple(A.shape)}.")
        if not torch.allclose(A, A.T, atol=1e-12, rtol=1e-10):
            raise ValueError("matrix must be symmetric.")
        if float(torch.linalg.eigvalsh(A).min()) <= 0:
            raise ValueError(
                "matrix must be positive definite; its smallest eigenvalue is "
                f"{float(torch.linalg.eigvalsh(A).min()):.3g}."
            )
        super().__init__(A.shape[0])
        self.matrix = A

    def evaluate(self, z: Tensor) -> Tensor:
        A = self.matrix.to(z.dtype)
        return A.expand(z.shape[0], self.dim, self.dim).clone()


class FunctionMetric(Metric):
    r"""A metric given by a closed-form function ``(n, d) -> (n, d, d)``.

    Use it for analytic metrics (see :mod:`gmtheory.geometry.surfaces`); the function
    must be written with torch operations so that
    :meth:`Metric.metric_derivative` can differentiate it.

    Parameters
    ----------
    fn : callable
        Maps ``(n, d)`` to ``(n, d, d)``.
    dim : int
        Latent dimension ``d``.
    """

    psd_by_construction = False

    def __init__(self, fn: Callable[[Tensor], Tensor], dim: int):
        super().__init__(dim)
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}.")
        self.fn = fn

    def evaluate(self, z: Tensor) -> Tensor:
        M = self.fn(z)
        if not isinstance(M, Tensor) or M.shape != (z.shape[0], self.dim, self.dim):
            shape = tuple(M.shape) if isinstance(M, Tensor) else type(M).__name__
            raise ValueError(
                f"fn must return shape (n, {self.dim}, {self.dim}) for n = "
                f"{z.shape[0]} points; it returned {shape}."
            )
        return M


def pullback_taylor_error(
    generator: Generator,
    z: Tensor,
    steps: Tensor,
    *,
    n_directions: int = 32,
    seed: int = 0,
) -> Tensor:
    r"""Error of the quadratic (pullback-metric) approximation of squared distances.

    For random directions :math:`u_1, u_2` and each step :math:`h`, with
    :math:`\Delta_i = h u_i`,

    .. math::

        e(h) = \operatorname{mean}\Big|\,\|f(z+\Delta_1) - f(z+\Delta_2)\|^2
        - (\Delta_1-\Delta_2)^\top M(z)\,(\Delta_1-\Delta_2)\Big|
        = O(h^3)

    for a :math:`C^2` generator, so a log-log plot of ``e`` against ``h`` has
    slope 3.

    Parameters
    ----------
    generator : callable
        Maps ``(n, d)`` to ``(n, D)``.
    z : Tensor, shape (d,)
        Base point.
    steps : Tensor, shape (k,)
        Positive step sizes ``h``.
    n_directions : int
        Number of random direction pairs averaged over.
    seed : int
        Seed of the directions (standard normal).

    Returns
    -------
    Tensor, shape (k,)

    Raises
    ------
    ValueError
        If ``z`` is not a finite point of shape ``(d,)``, a step is not
        positive or ``n_directions < 1``.

    Notes
    -----
    Derived in :ref:`pb-taylor`.

    Examples
    --------
    >>> import torch
    >>> f = lambda z: torch.cat([z, (z ** 2).sum(1, keepdim=True)], dim=1)
    >>> e = pullback_taylor_error(f, torch.tensor([0.5, 0.0]),
    ...                          torch.tensor([1e-2, 2e-2]))
    >>> bool(3.0 < float(e[1] / e[0]) < 10.0)
    True
    """
    zt = as_float_tensor(z, "z")
    if zt.ndim != 1:
        raise ValueError(
            f"z must be one point of shape (d,), got shape {tuple(zt.shape)}."
        )
    z = validate_points(zt[None], "z")[0]
    h = validate_finite(as_float_tensor(steps, "steps", z.dtype), "steps").reshape(-1)
    if h.numel() == 0 or bool((h <= 0).any()):
        raise ValueError(f"steps must be positive, got {h.tolist()}.")
    validate_positive_int(n_directions, "n_directions")
    d = z.shape[0]
    gen = torch.Generator().manual_seed(int(seed))
    u1 = torch.randn(int(n_directions), d, generator=gen, dtype=z.dtype)
    u2 = torch.randn(int(n_directions), d, generator=gen, dtype=z.dtype)
    M = PullbackMetric(generator, dim=d)(z[None])[0]
    errors = []
    with torch.no_grad():
        for step in h:
            delta = step * (u1 - u2)
            chord = generator(z + step * u1) - generator(z + step * u2)
            quad = torch.einsum("ni,ij,nj->n", delta, M, delta)
            errors.append(((chord ** 2).sum(1) - quad).abs().mean())
    return torch.stack(errors)
