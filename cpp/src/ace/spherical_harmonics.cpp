// Complex spherical harmonics with tangential gradients (see spherical_harmonics.hpp).
#include "forcefit/ace/spherical_harmonics.hpp"

#include <cmath>
#include <string>

#include "forcefit/error.hpp"

namespace forcefit::ace {

SphericalHarmonics::SphericalHarmonics(int lmax) : lmax_(lmax < 0 ? 0 : lmax) {
    if (lmax_ > kMaxL) throw InputError("ACE: lmax " + std::to_string(lmax) + " exceeds " + std::to_string(kMaxL));
    const int n = lm_count(lmax_);
    a_.assign(n, 0.0);
    b_.assign(n, 0.0);
    // Q_lm = a_lm (z Q_{l-1,m} - b_lm Q_{l-2,m}) for l >= m + 2
    for (int l = 2; l <= lmax_; ++l)
        for (int m = 0; m <= l - 2; ++m) {
            const double l2 = double(l) * l, m2 = double(m) * m, lm1 = double(l - 1) * (l - 1);
            a_[lm_index(l, m)] = std::sqrt((4.0 * l2 - 1.0) / (l2 - m2));
            b_[lm_index(l, m)] = std::sqrt((lm1 - m2) / (4.0 * lm1 - 1.0));
        }
}

void SphericalHarmonics::compute(const double u[3], cdouble* y, cdouble* dy) const {
    const double x = u[0], yy = u[1], z = u[2];
    const int L = lmax_;
    // Q and dQ/dz in a small stack buffer (lmax is at most a few tens).
    double q[lm_count(kMaxL)], dq[lm_count(kMaxL)];
    q[0] = 1.0;  // python-ace normalisation: sqrt(4 pi) x orthonormal
    dq[0] = 0.0;
    for (int m = 0; m <= L; ++m) {
        const int mm = lm_index(m, m);
        if (m > 0) {
            q[mm] = -std::sqrt((2.0 * m + 1.0) / (2.0 * m)) * q[lm_index(m - 1, m - 1)];
            dq[mm] = 0.0;
        }
        if (m + 1 <= L) {
            const int i1 = lm_index(m + 1, m);
            const double s = std::sqrt(2.0 * m + 3.0);
            q[i1] = s * z * q[mm];
            dq[i1] = s * q[mm];
        }
        for (int l = m + 2; l <= L; ++l) {
            const int i = lm_index(l, m), i1 = lm_index(l - 1, m), i2 = lm_index(l - 2, m);
            q[i] = a_[i] * (z * q[i1] - b_[i] * q[i2]);
            dq[i] = a_[i] * (q[i1] + z * dq[i1] - b_[i] * dq[i2]);
        }
    }
    const cdouble phase(x, yy);
    cdouble pm(1.0, 0.0), pm1(0.0, 0.0);  // (x+iy)^m and (x+iy)^(m-1)
    for (int m = 0; m <= L; ++m) {
        if (m == 1) pm1 = cdouble(1.0, 0.0);
        else if (m > 1) pm1 *= phase;
        if (m > 0) pm *= phase;
        for (int l = m; l <= L; ++l) {
            const int i = lm_index(l, m);
            y[i] = q[i] * pm;
            if (dy) {
                // gradient of Q(z) (x+iy)^m in R^3, then projected onto the tangent plane
                const cdouble gx = double(m) * q[i] * pm1;
                const cdouble gy = cdouble(0.0, 1.0) * gx;
                const cdouble gz = dq[i] * pm;
                const cdouble ug = x * gx + yy * gy + z * gz;
                dy[3 * i + 0] = gx - ug * x;
                dy[3 * i + 1] = gy - ug * yy;
                dy[3 * i + 2] = gz - ug * z;
            }
        }
    }
}

}  // namespace forcefit::ace
