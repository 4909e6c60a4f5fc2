// Radial basis functions, radial functions, core repulsion and their spline tables (see radial.hpp).
// Formulas: Drautz PRB 99, 014104 (2019) Eqs. (21)-(27); Bochkarev et al. PRMaterials 6, 013804 (2022)
// (simplified Bessel basis); python-ace's file conventions for parameters and cutoffs.
#include "forcefit/ace/radial.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "forcefit/error.hpp"

namespace forcefit::ace {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Chebyshev polynomials T_0..T_n(x) and their derivatives (dT_k = k U_{k-1}).
void chebyshev(int n, double x, double* t, double* dt) {
    t[0] = 1.0;
    dt[0] = 0.0;
    if (n < 1) return;
    t[1] = x;
    dt[1] = 1.0;
    double u_prev = 1.0, u = 2.0 * x;  // U_0, U_1
    for (int k = 2; k <= n; ++k) {
        t[k] = 2.0 * x * t[k - 1] - t[k - 2];
        dt[k] = k * u;
        const double u_next = 2.0 * x * u - u_prev;
        u_prev = u;
        u = u_next;
    }
}


// ZBL screening function and the Coulomb constant e^2/(4 pi eps0) in eV*Å.
constexpr double kCoulomb = 14.399645351950543;
constexpr double kZblC[4] = {0.18175, 0.50986, 0.28022, 0.02817};
constexpr double kZblE[4] = {-3.19980, -0.94229, -0.40290, -0.20162};

// phi(r/a)/r and its first two r-derivatives.
void zbl_pair(double r, double a, double& e, double& de, double& d2e) {
    double phi = 0, dphi = 0, d2phi = 0;
    for (int k = 0; k < 4; ++k) {
        const double t = kZblC[k] * std::exp(kZblE[k] * r / a);
        phi += t;
        dphi += t * kZblE[k];
        d2phi += t * kZblE[k] * kZblE[k];
    }
    e = phi / r;
    de = -phi / (r * r) + dphi / (a * r);
    d2e = 2.0 * phi / (r * r * r) - 2.0 * dphi / (a * r * r) + d2phi / (a * a * r);
}

}  // namespace

RadialBasisKind radial_basis_from_name(const std::string& name) {
    if (name == "ChebExpCos") return RadialBasisKind::ChebExpCos;
    if (name == "ChebPow") return RadialBasisKind::ChebPow;
    if (name == "ChebLinear") return RadialBasisKind::ChebLinear;
    if (name == "SBessel" || name == "TEST_SBessel") return RadialBasisKind::SBessel;
    throw InputError("unknown ACE radial basis '" + name + "' (known: ChebExpCos, ChebPow, ChebLinear, SBessel)");
}

InnerCutoffKind inner_cutoff_from_name(const std::string& name) {
    if (name == "density") return InnerCutoffKind::Density;
    if (name == "distance") return InnerCutoffKind::Distance;
    if (name == "zbl") return InnerCutoffKind::Zbl;
    throw InputError("unknown ACE inner_cutoff_type '" + name + "' (known: density, distance, zbl)");
}

void cutoff_poly(double x, double x_in, double delta, double& f, double& df) {
    if (x <= x_in - delta) {
        f = 1.0;
        df = 0.0;
    } else if (x >= x_in) {
        f = 0.0;
        df = 0.0;
    } else {
        const double y = 1.0 - 2.0 * (1.0 + (x - x_in) / delta);
        const double y2 = y * y;
        f = 0.5 + 3.75 * (y / 4.0 - y * y2 / 6.0 + y * y2 * y2 / 20.0);
        df = -7.5 / delta * (0.25 - y2 / 2.0 + y2 * y2 / 4.0);
    }
}

BondRadial::BondRadial(const BondSpec& spec, int nbasis_eval, double delta_spline_bins)
    : spec_(spec), nbasis_(nbasis_eval < spec.nradbase ? spec.nradbase : nbasis_eval) {
    if (!(spec_.rcut > 0)) throw InputError("ACE bond: rcut must be > 0, got " + std::to_string(spec_.rcut));
    if (!(delta_spline_bins > 0))
        throw InputError("ACE: deltaSplineBins must be > 0, got " + std::to_string(delta_spline_bins));
    if (spec_.nradmax < 0 || spec_.lmax < 0 || spec_.nradbase < 0)
        throw InputError("ACE bond: nradmax, lmax and nradbasemax must be >= 0");
    // Bounds that keep a corrupt file from sizing the tables beyond memory (real potentials: ~1e4 nodes,
    // ~1e6 table entries per bond); checked in floating point, before any int arithmetic can overflow.
    auto show = [](double x) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.6g", x);
        return std::string(buf);
    };
    const double nodes = spec_.rcut / delta_spline_bins;
    if (!(nodes <= kMaxSplineNodes))
        throw InputError("ACE: rcut / deltaSplineBins = " + show(nodes) + " spline nodes exceed " +
                         show(kMaxSplineNodes) + " (deltaSplineBins too small or rcut too large)");
    const double nf = double(nbasis_) + double(spec_.nradmax) * (double(spec_.lmax) + 1.0) + 1.0;
    if (nf * (nodes + 1.0) > kMaxTableEntries)
        throw InputError("ACE bond: spline table of " + show(nf) + " functions x " + show(nodes) +
                         " nodes exceeds " + show(kMaxTableEntries) + " entries (nradbasemax, nradmax or lmax too large?)");
    const std::size_t ncrad = std::size_t(spec_.nradmax) * (spec_.lmax + 1) * spec_.nradbase;
    if (spec_.crad.size() != ncrad)
        throw InputError("ACE bond: radcoefficients has " + std::to_string(spec_.crad.size()) +
                         " values, expected nradmax*(lmax+1)*nradbasemax = " + std::to_string(ncrad));

    // Table layout and node positions follow python-ace so that interpolated values agree to rounding.
    if (spec_.basis == RadialBasisKind::SBessel) {
        const double rc = spec_.rcut, scale = std::sqrt(2.0) * kPi / (rc * std::sqrt(rc));
        sbessel_pre_.assign(nbasis_, 0.0);
        sbessel_mix_.assign(nbasis_, 0.0);
        sbessel_norm_.assign(nbasis_, 1.0);
        sbessel_invq_.assign(nbasis_ + 2, 0.0);
        for (int q = 1; q < nbasis_ + 2; ++q) sbessel_invq_[q] = 1.0 / q;
        double d_prev = 1.0;
        for (int n = 0; n < nbasis_; ++n) {
            sbessel_pre_[n] = (n % 2 ? -1.0 : 1.0) * scale * (n + 1) * (n + 2) /
                              std::sqrt(double((n + 1) * (n + 1) + (n + 2) * (n + 2)));
            if (n == 0) continue;
            const double e = double(n) * n * (n + 2) * (n + 2) / (4.0 * std::pow(n + 1, 4) + 1.0);
            const double d = 1.0 - e / d_prev;
            sbessel_mix_[n] = std::sqrt(e / d_prev);
            sbessel_norm_[n] = 1.0 / std::sqrt(d);
            d_prev = d;
        }
    }
    nlut_ = static_cast<int>(spec_.rcut / delta_spline_bins);
    if (nlut_ < 2) throw InputError("ACE: deltaSplineBins is not smaller than the cutoff");
    rscale_ = double(nlut_) / spec_.rcut;
    build_table();
}

void BondRadial::set_crad(const double* crad, bool rebuild_table) {
    std::copy(crad, crad + spec_.crad.size(), spec_.crad.begin());
    table_valid_ = false;
    if (rebuild_table) build_table();
}

void BondRadial::build_table() {
    const double inv_rscale = 1.0 / rscale_;
    const int nf = nfunctions();
    table_.assign(std::size_t(nlut_ + 1) * nf * 4, 0.0);
    std::vector<double> v(nf), dv(nf), v1(nf, 0.0), dv1(nf, 0.0);
    for (int n = nlut_; n >= 1; --n) {
        analytic(inv_rscale * double(n), v.data(), dv.data());
        double* seg = &table_[std::size_t(n) * nf * 4];
        for (int f = 0; f < nf; ++f) {
            const double f0 = v[f], f1 = v1[f];
            const double s0 = dv[f] * inv_rscale, s1 = dv1[f];
            seg[4 * f + 0] = f0;
            seg[4 * f + 1] = s0;
            seg[4 * f + 2] = 3.0 * (f1 - f0) - s1 - 2.0 * s0;
            seg[4 * f + 3] = -2.0 * (f1 - f0) + s1 + s0;
            v1[f] = f0;
            dv1[f] = s0;
        }
    }
    table_valid_ = true;
}

void BondRadial::spline(double r, double* __restrict values, double* __restrict derivs) const {
    const double x = r * rscale_;
    const int nl = static_cast<int>(std::floor(x));
    const int nf = nfunctions();
    if (!table_valid_)
        throw InputError("ACE: spline tables are stale after set_parameters without rebuild_splines");
    if (nl <= 0)
        throw InputError("ACE: interatomic distance " + std::to_string(r) +
                         " Å is below the first spline node (atoms on top of each other?)");
    if (nl >= nlut_) {
        for (int f = 0; f < nf; ++f) values[f] = derivs[f] = 0.0;
        return;
    }
    const double w = x - double(nl), w2 = w * w, w3 = w2 * w;
    const double dw = rscale_, dw2 = 2.0 * w * rscale_, dw3 = 3.0 * w2 * rscale_;
    const double* __restrict seg = &table_[std::size_t(nl) * nf * 4];
    for (int f = 0; f < nf; ++f) {
        const double* c = seg + 4 * f;
        values[f] = c[0] + c[1] * w + c[2] * w2 + c[3] * w3;
        derivs[f] = c[1] * dw + c[2] * dw2 + c[3] * dw3;
    }
}

void BondRadial::analytic(double r, double* values, double* derivs) const {
    double* g = values;
    double* dg = derivs;
    basis(r, g, dg);
    const int nb = spec_.nradbase, L1 = spec_.lmax + 1;
    double* R = values + nbasis_;
    double* dR = derivs + nbasis_;
    for (int n = 0; n < spec_.nradmax; ++n)
        for (int l = 0; l < L1; ++l) {
            const double* c = &spec_.crad[(std::size_t(n) * L1 + l) * nb];
            double s = 0.0, ds = 0.0;
            for (int k = 0; k < nb; ++k) {
                s += c[k] * g[k];
                ds += c[k] * dg[k];
            }
            R[n * L1 + l] = s;
            dR[n * L1 + l] = ds;
        }
    const int ic = nfunctions() - 1;
    core(r, values[ic], derivs[ic]);
}

void BondRadial::basis(double r, double* g, double* dg) const {
    const int nb = nbasis_;
    const double rc = spec_.rcut, dc = spec_.dcut, lam = spec_.lambda;
    double r_in = spec_.rcut_in;
    const double d_in = spec_.dcut_in;
    // python-ace resets the inner radius of the ZBL variant this way before applying it.
    if (spec_.inner == InnerCutoffKind::Zbl) r_in = (d_in == 0.0) ? 1.0 : 0.0;
    for (int k = 0; k < nb; ++k) g[k] = dg[k] = 0.0;
    if (r <= r_in - d_in || r >= rc) return;

    // Chebyshev values on the stack for the usual sizes (this runs per neighbour on the analytic path)
    constexpr int kStack = 64;
    double t_stack[kStack], dt_stack[kStack];
    std::vector<double> t_heap, dt_heap;
    double* t = t_stack;
    double* dt = dt_stack;
    if (nb + 2 > kStack) {
        t_heap.resize(nb + 2);
        dt_heap.resize(nb + 2);
        t = t_heap.data();
        dt = dt_heap.data();
    }
    switch (spec_.basis) {
        case RadialBasisKind::ChebExpCos: {
            const double y1 = std::exp(-lam * r / rc), y2 = std::exp(-lam);
            const double x = 1.0 - 2.0 * ((y1 - y2) / (1.0 - y2));
            const double dx = 2.0 * (lam / rc) * (y1 / (1.0 - y2));
            chebyshev(nb, x, t, dt);
            g[0] = 1.0;
            dg[0] = 0.0;
            for (int k = 1; k < nb; ++k) {
                g[k] = 0.5 - 0.5 * t[k];
                dg[k] = -0.5 * dt[k] * dx;
            }
            const double env = 0.5 * (1.0 + std::cos(kPi * r / rc));
            const double denv = -0.5 * std::sin(kPi * r / rc) * kPi / rc;
            for (int k = 0; k < nb; ++k) {
                dg[k] = g[k] * denv + dg[k] * env;
                g[k] *= env;
            }
            const double r0 = rc - dc;
            if (r > r0) {
                const double fc = 0.5 * (1.0 + std::cos(kPi * (r - r0) / dc));
                const double dfc = -0.5 * std::sin(kPi * (r - r0) / dc) * kPi / dc;
                for (int k = 0; k < nb; ++k) {
                    dg[k] = g[k] * dfc + dg[k] * fc;
                    g[k] *= fc;
                }
            }
            break;
        }
        case RadialBasisKind::ChebPow:
        case RadialBasisKind::ChebLinear: {
            double x, dx;
            if (spec_.basis == RadialBasisKind::ChebPow) {
                const double y = 1.0 - r / rc;
                const double ylm1 = std::pow(y, lam - 1.0);
                x = 2.0 * (1.0 - ylm1 * y) - 1.0;
                dx = 2.0 * lam / rc * ylm1;
            } else {
                x = 1.0 - r / rc;
                dx = -1.0 / rc;
            }
            chebyshev(nb + 1, x, t, dt);
            for (int k = 0; k < nb; ++k) {
                g[k] = 0.5 - 0.5 * t[k + 1];
                dg[k] = -0.5 * dt[k + 1] * dx;
            }
            break;
        }
        case RadialBasisKind::SBessel: {
            // Orthogonalised simplified spherical Bessel functions (Kocer et al.), zero value and slope at rc.
            // All sines are of multiples k theta, theta = pi r / rc: one sin/cos pair and the angle-addition
            // recurrence give them all (t holds sin(k theta), dt cos(k theta), k = 0..nb+1).
            const double theta = kPi * r / rc, s1 = std::sin(theta), c1 = std::cos(theta);
            t[0] = 0.0;
            dt[0] = 1.0;
            for (int q = 1; q <= nb + 1; ++q) {
                t[q] = t[q - 1] * c1 + dt[q - 1] * s1;
                dt[q] = dt[q - 1] * c1 - t[q - 1] * s1;
            }
            // sinc(q theta) in t[q] and its r-derivative in dt[q]: d/dr sinc(q theta) = (cos(q theta) - sinc)/r,
            // so one reciprocal of theta and of r serve every q
            if (theta > 0.0) {
                const double inv_theta = 1.0 / theta, inv_r = 1.0 / r;
                for (int q = 1; q <= nb + 1; ++q) {
                    const double f = t[q] * inv_theta * sbessel_invq_[q];
                    dt[q] = (dt[q] - f) * inv_r;
                    t[q] = f;
                }
            } else {
                for (int q = 1; q <= nb + 1; ++q) {
                    t[q] = 1.0;
                    dt[q] = 0.0;
                }
            }
            // Gram-Schmidt recurrence g_n = (f_n + mix_n g_{n-1}) norm_n with r-independent constants
            for (int n = 0; n < nb; ++n) {
                const double f = sbessel_pre_[n] * (t[n + 1] + t[n + 2]), df = sbessel_pre_[n] * (dt[n + 1] + dt[n + 2]);
                g[n] = n == 0 ? f : (f + sbessel_mix_[n] * g[n - 1]) * sbessel_norm_[n];
                dg[n] = n == 0 ? df : (df + sbessel_mix_[n] * dg[n - 1]) * sbessel_norm_[n];
            }
            break;
        }
    }

    if (spec_.inner == InnerCutoffKind::Distance || spec_.inner == InnerCutoffKind::Zbl) {
        // the basis rises from zero at r_in - d_in to full strength at r_in
        double fc, dfc;
        cutoff_poly(r, r_in, d_in, fc, dfc);
        fc = 1.0 - fc;
        dfc = -dfc;
        for (int k = 0; k < nb; ++k) {
            dg[k] = dg[k] * fc + g[k] * dfc;
            g[k] *= fc;
        }
    }
}

void BondRadial::core(double r, double& c, double& dc) const {
    c = dc = 0.0;
    if (spec_.inner == InnerCutoffKind::Zbl) {
        // ZBL shifted to zero value, slope and curvature at rcut over [rcut - dcut, rcut] and switched off
        // there.  The hand-over between ZBL and ACE is per atom, by the nearest neighbour (ctilde_compute.cpp).
        const double out = spec_.rcut, in = spec_.rcut - spec_.dcut;
        if (r >= out) return;
        const double a = 0.46850 / (std::pow(spec_.z_i, 0.23) + std::pow(spec_.z_j, 0.23));
        double e, de, d2e, ec, dec, d2ec;
        zbl_pair(r, a, e, de, d2e);
        zbl_pair(out, a, ec, dec, d2ec);
        const double w = out - in;
        const double A = (-3.0 * dec + w * d2ec) / (w * w);
        const double B = (2.0 * dec - w * d2ec) / (w * w * w);
        const double C = -ec + 0.5 * w * dec - w * w * d2ec / 12.0;
        double S = C, dS = 0.0;
        if (r > in) {
            const double x = r - in;
            S = A / 3.0 * x * x * x + B / 4.0 * x * x * x * x + C;
            dS = A * x * x + B * x * x * x;
        }
        const double pre = spec_.prehc * kCoulomb / 2.0 * spec_.z_i * spec_.z_j;
        c = pre * (e + S);
        dc = pre * (de + dS);
        double fc, dfc;
        cutoff_poly(r, out, w, fc, dfc);
        dc = dc * fc + c * dfc;
        c *= fc;
        return;
    }
    const double pre = std::fabs(spec_.prehc), lam = std::fabs(spec_.lambdahc);
    if (pre == 0.0) return;  // no core repulsion (the common case): skip the exponential
    const double lr2 = lam * r * r;
    // the cosine envelope would rise again beyond rcut; python-ace never evaluates there
    if (lr2 < 50.0 && r < spec_.rcut) {
        const double y = std::exp(-lr2);
        c = pre * y / r;
        dc = -pre * y * (2.0 * lr2 + 1.0) / (r * r);
        const double x0 = r / spec_.rcut;
        const double env = 0.5 * (1.0 + std::cos(kPi * x0));
        const double denv = -0.5 * std::sin(kPi * x0) * kPi / spec_.rcut;
        dc = c * denv + dc * env;
        c *= env;
    }
    if (spec_.inner == InnerCutoffKind::Distance) {
        // core repulsion acts only inside the inner cutoff
        double fc, dfc;
        cutoff_poly(r, spec_.rcut_in, spec_.dcut_in, fc, dfc);
        dc = dc * fc + c * dfc;
        c *= fc;
    }
}

}  // namespace forcefit::ace
