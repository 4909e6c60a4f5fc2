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
    diag_.assign(lmax_ + 1, 0.0);
    sub_.assign(lmax_ + 1, 0.0);
    // Q_lm = a_lm (z Q_{l-1,m} - b_lm Q_{l-2,m}) for l >= m + 2
    for (int l = 2; l <= lmax_; ++l)
        for (int m = 0; m <= l - 2; ++m) {
            const double l2 = double(l) * l, m2 = double(m) * m, lm1 = double(l - 1) * (l - 1);
            a_[lm_index(l, m)] = std::sqrt((4.0 * l2 - 1.0) / (l2 - m2));
            b_[lm_index(l, m)] = std::sqrt((lm1 - m2) / (4.0 * lm1 - 1.0));
        }
    for (int m = 1; m <= lmax_; ++m) diag_[m] = -std::sqrt((2.0 * m + 1.0) / (2.0 * m));
    for (int m = 0; m <= lmax_; ++m) sub_[m] = std::sqrt(2.0 * m + 3.0);
}

void SphericalHarmonics::compute(const double u[3], cdouble* y, cdouble* dy) const {
    const double x = u[0], yy = u[1], z = u[2];
    const int L = lmax_;
    double q[lm_count(kMaxL)], dq[lm_count(kMaxL)];
    double qmm = 1.0;  // python-ace normalisation: sqrt(4 pi) x orthonormal, Y_00 = 1
    for (int m = 0; m <= L; ++m) {
        const int mm = lm_index(m, m);
        if (m > 0) qmm *= diag_[m];
        q[mm] = qmm;
        dq[mm] = 0.0;
        if (m + 1 <= L) {
            const int i1 = mm + m + 1;  // lm_index(m + 1, m)
            q[i1] = sub_[m] * z * qmm;
            dq[i1] = sub_[m] * qmm;
        }
        for (int l = m + 2; l <= L; ++l) {
            const int i = lm_index(l, m), i1 = i - l, i2 = i1 - (l - 1);
            q[i] = a_[i] * (z * q[i1] - b_[i] * q[i2]);
            dq[i] = a_[i] * (q[i1] + z * dq[i1] - b_[i] * dq[i2]);
        }
    }
    // (x + i y)^m and m (x + i y)^(m-1), written out in real arithmetic
    double pr = 1.0, pi = 0.0, p1r = 0.0, p1i = 0.0;
    for (int m = 0; m <= L; ++m) {
        if (m > 0) {
            p1r = m * pr;
            p1i = m * pi;
            const double t = pr * x - pi * yy;
            pi = pr * yy + pi * x;
            pr = t;
        }
        for (int l = m; l <= L; ++l) {
            const int i = lm_index(l, m);
            y[i] = cdouble(q[i] * pr, q[i] * pi);
            if (dy) {
                // gradient of Q(z) (x+iy)^m in R^3, projected onto the tangent plane
                const double gxr = q[i] * p1r, gxi = q[i] * p1i;   // d/dx
                const double gyr = -gxi, gyi = gxr;                 // d/dy = i d/dx
                const double gzr = dq[i] * pr, gzi = dq[i] * pi;   // d/dz
                const double ur = x * gxr + yy * gyr + z * gzr, ui = x * gxi + yy * gyi + z * gzi;
                dy[3 * i + 0] = cdouble(gxr - ur * x, gxi - ui * x);
                dy[3 * i + 1] = cdouble(gyr - ur * yy, gyi - ui * yy);
                dy[3 * i + 2] = cdouble(gzr - ur * z, gzi - ui * z);
            }
        }
    }
}

}  // namespace forcefit::ace
