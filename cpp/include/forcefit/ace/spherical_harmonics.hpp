// Complex spherical harmonics Y_lm(r_hat), m >= 0, in python-ace's convention: sqrt(4 pi) times the
// standard orthonormal harmonics with the Condon-Shortley phase, i.e. Y_00 = 1, Y_10 = sqrt(3) z,
// Y_11 = -sqrt(3/2) (x + i y).  (Found by matching python-ace's energies: its rank-1 A = sum_j g_k(r_ij)
// carries no 1/sqrt(4 pi), and all other Y_lm share that normalisation.)
// Negative m follow from Y_{l,-m} = (-1)^m conj(Y_lm), so only m >= 0 is stored, at index l(l+1)/2 + m.
//
// Written as Y_lm(u) = Q_lm(z) (x + i y)^m for the unit vector u = (x, y, z), with Q_lm a normalised
// polynomial computed by the usual three-term recurrences.  The gradient returned is the tangential one,
// (1 - u u^T) grad_u, so that d Y_lm(r/|r|) / d r = gradient / |r|.
#pragma once

#include <complex>
#include <vector>

namespace forcefit::ace {

using cdouble = std::complex<double>;

constexpr int kMaxL = 40;  ///< largest lmax supported

constexpr int lm_index(int l, int m) { return l * (l + 1) / 2 + m; }
constexpr int lm_count(int lmax) { return (lmax + 1) * (lmax + 2) / 2; }

class SphericalHarmonics {
public:
    explicit SphericalHarmonics(int lmax);
    int lmax() const { return lmax_; }

    /// u must be a unit vector. y: [lm_count]; dy (optional): [lm_count][3] tangential gradients.
    void compute(const double u[3], cdouble* y, cdouble* dy) const;

private:
    int lmax_;
    std::vector<double> a_, b_;  // recurrence coefficients per (l, m)
    std::vector<double> diag_, sub_;  // Q_mm = diag_[m] Q_{m-1,m-1}; Q_{m+1,m} = sub_[m] z Q_mm
};

}  // namespace forcefit::ace
