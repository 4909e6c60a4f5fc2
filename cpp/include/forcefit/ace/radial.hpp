// Radial part of the atomic cluster expansion, python-ace ("PACE") conventions.
//
// For one ordered species pair (mu_i, mu_j) a BondRadial provides, as functions of the distance r (Å):
//   g_k(r), k < nradbase          radial basis (ChebExpCos, ChebPow, ChebLinear, SBessel), with the outer
//                                 cutoff built in and, for inner_cutoff_type distance/zbl, an inner cutoff;
//   R_nl(r) = sum_k crad[n][l][k] g_k(r), n < nradmax, l <= lmax;
//   core(r)                       pair core repulsion prehc*exp(-lambdahc r^2)/r * cos-envelope (eV), or ZBL.
// Each comes with its r-derivative.  Two evaluation paths give the same functions:
//   * analytic (used for fitting and as the ground truth), and
//   * a cubic Hermite spline on the uniform grid r_n = n*rc/nlut, nlut = int(rc/deltaSplineBins), built
//     from analytic values and slopes at the nodes, exactly the table python-ace evaluates with (its
//     reference energies use the splines, so we match them to ~1e-12 rather than to the ~1e-8 spline error).
//     The spline returns zero for r >= rc and rejects r below the first grid node (python-ace does too).
#pragma once

#include <string>
#include <vector>

namespace forcefit::ace {

enum class RadialBasisKind { ChebExpCos, ChebPow, ChebLinear, SBessel };
enum class InnerCutoffKind { Density, Distance, Zbl };

RadialBasisKind radial_basis_from_name(const std::string& name);
InnerCutoffKind inner_cutoff_from_name(const std::string& name);

/// Parameters of one bond as stored in a .yace file (lengths in Å, energies in eV).
struct BondSpec {
    RadialBasisKind basis = RadialBasisKind::ChebExpCos;
    int nradmax = 0;
    int lmax = 0;
    int nradbase = 0;            ///< number of g_k used by R_nl (the bond's nradbasemax)
    double lambda = 1.0;         ///< radparameters[0]
    std::vector<double> crad;    ///< [nradmax][lmax+1][nradbase]
    double prehc = 0.0, lambdahc = 1.0;
    double rcut = 5.0, dcut = 0.01;
    double rcut_in = 0.0, dcut_in = 0.0;
    InnerCutoffKind inner = InnerCutoffKind::Density;
    int z_i = 0, z_j = 0;        ///< atomic numbers, used by ZBL only
};

/// Smooth polynomial switch: 1 for x <= x_in - delta, 0 for x >= x_in (python-ace cutoff_func_poly).
void cutoff_poly(double x, double x_in, double delta, double& f, double& df);

/// Largest number of spline nodes rcut / deltaSplineBins of one bond, and of table entries (functions x nodes)
/// of one bond; larger requests come from corrupt files and are InputErrors.
constexpr double kMaxSplineNodes = 1.0e6;
constexpr double kMaxTableEntries = 1.0e7;

class BondRadial {
public:
    /// nbasis_eval: how many g_k to evaluate (>= spec.nradbase; python-ace evaluates the global maximum,
    /// which rank-1 functions may index).
    BondRadial(const BondSpec& spec, int nbasis_eval, double delta_spline_bins);

    int nbasis() const { return nbasis_; }
    int nradial() const { return spec_.nradmax; }
    int lmax() const { return spec_.lmax; }
    double rcut() const { return spec_.rcut; }
    const BondSpec& spec() const { return spec_; }
    /// Number of tabulated functions: nbasis g_k, then nradmax*(lmax+1) R_nl, then 1 core.
    int nfunctions() const { return nbasis_ + spec_.nradmax * (spec_.lmax + 1) + 1; }

    /// Analytic values and derivatives of all functions, in the order of nfunctions().
    void analytic(double r, double* values, double* derivs) const;
    /// Spline-interpolated values and derivatives of all functions (same order).
    void spline(double r, double* values, double* derivs) const;
    /// Smallest distance the spline accepts (one grid step).
    double spline_rmin() const { return 1.0 / rscale_; }
    /// Replace the radial coefficients ([nradmax][lmax+1][nradbase]); without rebuild_table the spline
    /// table goes stale and spline() throws until a later call rebuilds it (fits use analytic()).
    void set_crad(const double* crad, bool rebuild_table);

    /// The g_k of analytic() alone (nbasis() values and derivatives).
    void basis(double r, double* g, double* dg) const;

private:
    void build_table();
    void core(double r, double& c, double& dc) const;

    BondSpec spec_;
    int nbasis_;
    int nlut_ = 0;
    double rscale_ = 1.0;
    std::vector<double> table_;  // [nlut+1][nfunctions][4] Hermite coefficients per segment
    bool table_valid_ = false;
    // SBessel: prefactors and Gram-Schmidt constants of g_n, independent of r; 1/q for sinc(q theta)
    std::vector<double> sbessel_pre_, sbessel_mix_, sbessel_norm_, sbessel_invq_;
};

}  // namespace forcefit::ace
