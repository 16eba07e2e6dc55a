"""Assertions used by the book's check cells.

Each function raises :class:`AssertionError` with the numbers involved when
the check fails, and prints one line saying what was checked when it passes,
so that a reader who unfolds a check cell sees the evidence.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_close", "check_less", "check_true"]


def _f(x) -> np.ndarray:
    try:
        import torch

        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    return np.asarray(x, dtype=float)


def check_close(actual, expected, what: str, rtol: float = 1e-7, atol: float = 0.0) -> None:
    """Assert ``|actual - expected| <= atol + rtol * |expected|`` elementwise.

    Prints the largest absolute error; returns nothing, so that a check as the
    last line of a cell displays only its ✓ line.

    >>> check_close(1.0 + 1e-12, 1.0, "one is one")
    ✓ one is one: max abs. error 1e-12 (tolerance atol=0, rtol=1e-07)
    """
    a, e = np.broadcast_arrays(_f(actual), _f(expected))
    if not (np.isfinite(a).all() and np.isfinite(e).all()):
        raise AssertionError(f"{what}: non-finite values (actual={a}, expected={e})")
    err = np.abs(a - e)
    bound = atol + rtol * np.abs(e)
    if not (err <= bound).all():
        i = np.unravel_index(np.argmax(err - bound), err.shape)
        raise AssertionError(
            f"{what}: |{a[i]!r} - {e[i]!r}| = {err[i]:.3g} exceeds "
            f"atol={atol:g} + rtol={rtol:g}*|expected|"
        )
    worst = float(err.max()) if err.size else 0.0
    print(f"✓ {what}: max abs. error {worst:.3g} (tolerance atol={atol:g}, rtol={rtol:g})")


def check_less(smaller, larger, what: str, margin: float = 0.0) -> None:
    """Assert ``smaller + margin < larger`` elementwise (strict).

    >>> check_less(1.0, 2.0, "1 < 2")
    ✓ 1 < 2: 1 < 2
    """
    s, l = np.broadcast_arrays(_f(smaller), _f(larger))
    if not (s + margin < l).all():
        raise AssertionError(f"{what}: expected {s} + {margin} < {l}")
    if s.size == 1:
        print(f"✓ {what}: {float(s):.6g} < {float(l):.6g}")
    else:
        print(f"✓ {what}: holds for all {s.size} entries "
              f"(largest gap ratio {float((s / l).max()):.4g})")


def check_true(condition: bool, what: str) -> None:
    """Assert a boolean condition, printing ``what`` when it holds.

    >>> check_true(True, "trivial")
    ✓ trivial
    """
    if not bool(condition):
        raise AssertionError(what)
    print(f"✓ {what}")
