"""One BLAS thread while an optimizer alternates with forcefit's OpenMP kernels.

numpy's OpenBLAS runs a large product (J^T J or J^T r with J [m, n], m residuals >> n parameters) on
worker threads and leaves them busy-waiting for a while after it returns. The next residual or
Jacobian pass, whose OpenMP threads want the same cores, then runs slower: on the 2-core KLIFF
Stillinger-Weber benchmark each residual pass inside a geodesic LM fit took 25 ms instead of 16 ms,
and the fit 1.48 s instead of 0.90 s. The products an optimizer does between evaluations are thin and
memory-bound, so a single BLAS thread costs nothing there.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits


def serial_blas() -> threadpool_limits:
    """Context manager: BLAS libraries (OpenBLAS, MKL, BLIS) on one thread, OpenMP untouched."""
    return threadpool_limits(limits=1, user_api="blas")


__all__ = ["serial_blas"]
