r"""Analytic surfaces with closed-form pullback metrics, used as test beds.

Each surface is an embedding :math:`f:\mathbb R^d\to\mathbb R^D` written in
torch, together with its metric :math:`M = J^\top J` worked out by hand.  The
two routes -- automatic differentiation through :class:`PullbackMetric` and
the hand-derived formula through :class:`FunctionMetric` -- must agree, which
is how the book and the tests check the machinery.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

from ..validation import validate_points
from .metrics import FunctionMetric, PullbackMetric

__all__ = ["Surface", "Paraboloid", "SphereChart", "FoldedLine", "great_circle_distance"]


class Surface(ABC):
    """An embedding with a closed-form pullback metric."""

    #: latent dimension
    dim: int = 2

    @abstractmethod
    def embed(self, z: Tensor) -> Tensor:
        """The embedding ``f``: ``(n, d) -> (n, D)``."""

    @abstractmethod
    def closed_form(self, z: Tensor) -> Tensor:
        """The hand-derived metric ``J^T J``: ``(n, d) -> (n, d, d)``."""

    def pullback(self) -> PullbackMetric:
        """The metric computed by automatic differentiation of :meth:`embed`."""
        return PullbackMetric(self.embed, dim=self.dim)

    def metric(self) -> FunctionMetric:
        """The metric computed from the closed form :meth:`closed_form`."""
        return FunctionMetric(self.closed_form, dim=self.dim)


class Paraboloid(Surface):
    r"""The paraboloid :math:`f(z) = (z_1, z_2, z_1^2 + z_2^2)`.

    .. math::

        J = \begin{pmatrix} I_2 \\ 2 z^\top \end{pmatrix}, \qquad
        M(z) = I_2 + 4\, z z^\top, \qquad \sqrt{\det M} = \sqrt{1 + 4\|z\|^2}.

    Notes
    -----
    Derived in :ref:`pb-closed-forms`; used in :ref:`lv-generators`.

    Examples
    --------
    >>> import torch
    >>> Paraboloid().closed_form(torch.tensor([[1.0, 0.0]]))
    tensor([[[5., 0.],
             [0., 1.]]])
    """

    def embed(self, z: Tensor) -> Tensor:
        return torch.cat([z, (z ** 2).sum(dim=1, keepdim=True)], dim=1)

    def closed_form(self, z: Tensor) -> Tensor:
        eye = torch.eye(2, dtype=z.dtype).expand(z.shape[0], 2, 2)
        return eye + 4.0 * z.unsqueeze(2) * z.unsqueeze(1)


class SphereChart(Surface):
    r"""The unit sphere in polar coordinates :math:`z = (\vartheta, \varphi)`.

    .. math::

        f(\vartheta, \varphi) = (\sin\vartheta\cos\varphi,\;
        \sin\vartheta\sin\varphi,\; \cos\vartheta), \qquad
        M = \operatorname{diag}(1, \sin^2\vartheta).

    The chart is singular at the poles :math:`\vartheta \in \{0, \pi\}`, where
    :math:`M` has rank one: the whole circle :math:`\varphi\in[0,2\pi)` is
    mapped to one point.

    Notes
    -----
    Derived in :ref:`pb-closed-forms`; used in :ref:`geo-sphere`, and its
    singular poles are the example of :ref:`pb-rank`.

    Examples
    --------
    >>> import math, torch
    >>> SphereChart().closed_form(torch.tensor([[math.pi / 2, 0.3]]))
    tensor([[[1., 0.],
             [0., 1.]]])
    """

    def embed(self, z: Tensor) -> Tensor:
        th, ph = z[:, 0], z[:, 1]
        return torch.stack(
            [th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], dim=1
        )

    def closed_form(self, z: Tensor) -> Tensor:
        s2 = z[:, 0].sin() ** 2
        zero = torch.zeros_like(s2)
        one = torch.ones_like(s2)
        return torch.stack(
            [torch.stack([one, zero], 1), torch.stack([zero, s2], 1)], dim=1
        )


class FoldedLine(Surface):
    r"""A rank-deficient map: :math:`f(z) = (s, s^2, \sin s)` with :math:`s = z_1 + z_2`.

    Its Jacobian has rank one everywhere, so

    .. math::

        M(z) = (1 + 4s^2 + \cos^2 s) \begin{pmatrix}1 & 1\\ 1 & 1\end{pmatrix}

    is positive semi-definite but never positive definite: the direction
    :math:`(1, -1)` has zero length.

    Notes
    -----
    Used in :ref:`pb-rank`.
    """

    def embed(self, z: Tensor) -> Tensor:
        s = z[:, 0] + z[:, 1]
        return torch.stack([s, s ** 2, s.sin()], dim=1)

    def closed_form(self, z: Tensor) -> Tensor:
        s = z[:, 0] + z[:, 1]
        c = 1.0 + 4.0 * s ** 2 + s.cos() ** 2
        ones = torch.ones(z.shape[0], 2, 2, dtype=z.dtype)
        return c[:, None, None] * ones


def great_circle_distance(z0: Tensor, z1: Tensor) -> Tensor:
    r"""Great-circle distance between points given in :class:`SphereChart` coordinates.

    .. math::

        d(z_0, z_1) = \arccos\big(\langle f(z_0), f(z_1)\rangle\big),

    evaluated with the numerically stable ``atan2`` form.

    Parameters
    ----------
    z0, z1 : Tensor, shape (n, 2)

    Returns
    -------
    Tensor, shape (n,)

    Notes
    -----
    Used in :ref:`geo-sphere`.

    Examples
    --------
    >>> import math, torch
    >>> z0 = torch.tensor([[math.pi / 2, 0.0]])
    >>> z1 = torch.tensor([[math.pi / 2, math.pi / 2]])
    >>> abs(float(great_circle_distance(z0, z1)) - math.pi / 2) < 1e-6
    True
    """
    z0 = validate_points(z0, "z0", dim=2)
    z1 = validate_points(z1, "z1", dim=2)
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape, got "
                         f"{tuple(z0.shape)} and {tuple(z1.shape)}.")
    s = SphereChart()
    a, b = s.embed(z0), s.embed(z1)
    cross = torch.linalg.cross(a, b).norm(dim=1)
    return torch.atan2(cross, (a * b).sum(dim=1))
