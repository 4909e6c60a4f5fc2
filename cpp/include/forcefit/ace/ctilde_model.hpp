// Ctilde ACE model: energies, forces and virial of python-ace potentials (Lysogorskiy et al., npj Comput
// Mater 7, 97 (2021)), evaluated on a CSR full neighbour list.
//
// Per atom i of species mu_i (Drautz PRB 99, 014104 (2019)):
//   A1_{mu k}     = sum_{j: mu_j = mu} g_k(r_ij) Y_00,  Y_00 = 1             (rank-1 atomic base)
//   A_{mu n l m}  = sum_{j: mu_j = mu} R_nl(r_ij) Y_lm(r_hat_ij),  m >= 0   (A_{l,-m} = (-1)^m conj A_lm)
//   rho_p         = sum_rank1 c_p A1 + sum_{functions, m-tuples} c_p Re prod_t A_{mu_t n_t l_t m_t}
//   rho_core      = sum_j core(r_ij)
//   E_i           = E0[mu_i] + F(rho) f_cut(rho_core) + rho_core,
//   F(rho)        = sum_p FS[2p] f(rho_p; FS[2p+1]), f = FinnisSinclair or FinnisSinclairShiftedScaled,
//   f_cut         = python-ace's polynomial switch-off above rho_core_cutoff - drho_core_cutoff.
// With inner_cutoff_type "zbl" instead E_i = E0 + F f + core (1 - f), where f switches from 0 to 1 as the
// nearest neighbour distance r_min crosses [rcut_in - dcut_in, rcut_in] and core is the ZBL pair energy.
//
// Products: every m-tuple product is a node of a DAG compiled once per central species.  A node is the
// product of a shorter node and one A (prefix sharing on sorted factor lists); a tuple and its mirror
// image (all m -> -m) share one root, because Re prod A_{-m} = (-1)^{sum m} Re prod A_m.  The A_{l,-m} are
// leaves of their own, filled per atom, so nodes are plain complex products.  The last factor of each
// product is never multiplied out: the products sharing a prefix P enter as Re(P * sum_x c_x A_x), so a
// product costs one real-times-complex update (and its node disappears).  Zero coefficients are
// dropped.  With sharing disabled the DAG degenerates into one independent chain per m-tuple: the plain
// "product" evaluator, kept for testing.
//
// Gradients: one reverse sweep.  With the adjoint abar(z) of a complex value z defined by
// dE = Re(sum abar(z) dz), a product node z = x y gives abar(x) += abar(z) y, abar(y) += abar(z) x; the
// leaf A_{l,-m} = (-1)^m conj(A_lm) passes (-1)^m conj(abar) back to A_lm, and the leaves give
// dE_i/dr_ij = Re(sum_{m>=0} abar_A dA/dr_ij).
//
// Units: Å, eV; forces eV/Å; the virial W = -sum_pairs r_ij (x) dE/dr_ij (eV), so stress = -W/V (ASE sign,
// tensile positive) is left to the caller.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "forcefit/ace/radial.hpp"
#include "forcefit/ace/spherical_harmonics.hpp"

namespace forcefit::ace {

enum class EmbeddingKind { FinnisSinclair, FinnisSinclairShiftedScaled };
EmbeddingKind embedding_from_name(const std::string& name);

struct EmbeddingSpec {
    EmbeddingKind kind = EmbeddingKind::FinnisSinclairShiftedScaled;
    int ndensity = 1;
    std::vector<double> fs_parameters;  ///< [2*ndensity]: (prefactor, exponent) per density
    double rho_core_cutoff = 1e5, drho_core_cutoff = 250.0;
};

struct CtildeFunctionSpec {
    int rank = 1, ndensity = 1;
    std::vector<int> mus, ns, ls;   ///< [rank]; ns 1-based
    std::vector<int> ms;            ///< [num_ms_combs][rank]
    std::vector<double> ctildes;    ///< [num_ms_combs][ndensity]
};

struct CtildeSpec {
    std::vector<std::string> elements;
    std::vector<double> E0;                              ///< [nelements], eV
    double delta_spline_bins = 0.001;                    ///< Å
    std::vector<EmbeddingSpec> embeddings;               ///< [nelements]
    std::vector<BondSpec> bonds;                         ///< [nelements*nelements], mu_i*nel + mu_j
    std::vector<std::vector<CtildeFunctionSpec>> functions;  ///< [nelements]
};

/// f(rho) for one density and its derivative, without the prefactor: python-ace's C++ functions Fexp
/// (npoti FinnisSinclair) and FexpShiftedScaled (npoti FinnisSinclairShiftedScaled).  Those two function
/// names are not embedding names of a file: python-ace leaves F unset for them, embedding_from_name rejects them.
void embedding_value(EmbeddingKind kind, double rho, double mexp, double& f, double& df);
/// d^2 f / d rho^2 of embedding_value (same branches; the parameter gradients need it).
double embedding_second(EmbeddingKind kind, double rho, double mexp);

struct ComputeOptions {
    bool forces = true;       ///< also compute forces and virial
    bool splines = true;      ///< spline-interpolated radial functions (python-ace's numbers) or analytic
    int num_threads = 0;      ///< 0: OpenMP default
};

/// Forces and virials from the per-pair gradients g_p = dE/dr_ij that CtildeModel::compute_pairs
/// returns: f_i += g, f_j -= g, and W[config[i]] -= r_ij (x) g (row-major 3x3 per configuration, eV).
/// config == nullptr puts every atom in configuration 0. Zeroes forces[natoms][3] and
/// virial[nconfigs][9] first; pairs are summed serially in pair order (deterministic).
void tally_pair_gradients(std::int64_t natoms, const std::int64_t* first, const std::int64_t* neigh,
                          const double* rij, const double* pair_grad, const std::int64_t* config,
                          std::int64_t nconfigs, double* forces, double* virial);

class CtildeModel {
public:
    /// share_products=false builds the plain product evaluator (one chain per m-tuple).
    /// keep_zero_terms=true keeps products whose coefficients are all zero (needed for fitting, where every
    /// coefficient is a parameter; see ctilde_gradients.hpp); by default they are dropped.
    explicit CtildeModel(const CtildeSpec& spec, bool share_products = true, bool keep_zero_terms = false);

    int nelements() const { return nel_; }
    double cutoff() const { return cutoff_; }
    double cutoff(int mu_i, int mu_j) const { return bonds_[mu_i * nel_ + mu_j].rcut(); }
    /// Internal product nodes of species mu (memory and work measure).
    std::size_t num_nodes(int mu) const { return species_[mu].nodes.size(); }
    /// Distinct (prefix, last factor) products entering the densities of species mu.
    std::size_t num_roots(int mu) const { return species_[mu].term_leaf.size(); }

    /// Evaluate on a CSR full neighbour list: neighbours of atom i are p in [first[i], first[i+1]),
    /// owner atom neigh[p], vector rij[p] = r_j + S cell - r_i (Å).  Outputs (caller-allocated):
    /// energies[N] (eV); if options.forces: forces[N][3] (eV/Å) and virial[9] (row-major, eV).
    /// Deterministic: per-pair results are reduced serially in pair order, whatever the thread count.
    void compute(std::int64_t natoms, const std::int32_t* species, const std::int64_t* first,
                 const std::int64_t* neigh, const double* rij, const ComputeOptions& options,
                 double* energies, double* forces, double* virial) const;

    /// The same evaluation for codes that keep ghost atoms (LAMMPS, KIM): centres c < ncentres of species
    /// centre_species[c] with neighbours p in [first[c], first[c+1]); neigh[p] indexes
    /// neighbour_species[0, nneighbour_atoms), rij[p] = r_j - r_c (Å).  Outputs energies[ncentres] (eV)
    /// and, if options.forces, pair_grad[first[ncentres]][3] = dE_c/dr_cj (eV/Å), from which the caller
    /// tallies forces (f_c += g, f_j -= g), the virial and per-atom virials.
    void compute_pairs(std::int64_t ncentres, const std::int32_t* centre_species, const std::int64_t* first,
                       std::int64_t nneighbour_atoms, const std::int32_t* neighbour_species,
                       const std::int64_t* neigh, const double* rij, const ComputeOptions& options,
                       double* energies, double* pair_grad) const;

    /// Radial functions of bond (mu_i, mu_j) at r: values/derivatives of [g_k..., R_nl..., core] (see
    /// BondRadial::nfunctions), analytic or spline.
    void radial(int mu_i, int mu_j, double r, bool splines, double* values, double* derivs) const;
    int radial_count(int mu_i, int mu_j) const { return bonds_[mu_i * nel_ + mu_j].nfunctions(); }

private:
    friend class CtildeGradientKernel;  // parameter derivatives (ctilde_gradients.cpp)
    friend class CtildeJacobianKernel;  // residual Jacobian blocks (ctilde_jacobian.cpp)

    // Where one Ctilde coefficient row (function, ms_comb) of the input went: a product term (kind 0,
    // term index in the grouped arrays), a rank-1 slot (kind 1) or nowhere (kind -1, dropped zero).
    struct ParamRef {
        std::int32_t kind = -1, slot = 0;
        double sign = 1.0;
    };

    struct Species {
        // rank 1: rho_p += w1[t][p] * A1[a1_index[t]]
        std::vector<int> a1_index;
        std::vector<double> w1;
        // product DAG: node ids < nleaf are the A values (all m); node nleaf + q = nodes[q].left * A[right]
        struct Node {
            std::int32_t left, right;
        };
        std::vector<Node> nodes;
        // densities: for group g with prefix node P = group_prefix[g] and its terms t in
        // [group_first[g], group_first[g+1]): rho_p += Re(value(P) * sum_t term_coef[t][p] A[term_leaf[t]])
        std::vector<std::int32_t> group_prefix, group_first, term_leaf;
        std::vector<double> term_coef;
        int ndensity = 1;
        std::vector<double> ctildes;             // input coefficients [functions][ms_combs][ndensity]
        std::vector<ParamRef> refs;              // one per (function, ms_comb), in input order
        std::vector<std::int32_t> function_nms;  // num_ms_combs per function, in input order
    };
    struct Workspace;

    void compile_species(int mu, const std::vector<CtildeFunctionSpec>& funcs, bool share, bool keep_zeros);
    void compute_atom(std::int64_t i, int mu_i, const std::int32_t* species, std::int64_t begin,
                      std::int64_t end, const std::int64_t* neigh, const double* rij, const ComputeOptions& opt,
                      Workspace& ws, double& energy, double* pair_grad) const;

    int nel_ = 0;
    int nbasis_ = 0;     // global number of g_k (rank-1 index range)
    int nradmax_ = 0;    // global max n
    int lmax_ = 0;       // global max l
    int nlm_ = 0;        // (lmax+1)^2: leaves per (mu, n), m = -l..l at l*l + l + m
    int nleaf_ = 0;      // nel * nradmax * nlm
    double cutoff_ = 0;
    bool zbl_ = false;   // inner_cutoff_type zbl (python-ace applies one type to all bonds)
    std::vector<double> E0_;
    std::vector<EmbeddingSpec> emb_;
    std::vector<BondRadial> bonds_;
    std::vector<Species> species_;
    std::vector<signed char> leaf_m_;  // m of each leaf
    // d/dz F_lm = z F_{l-1,m}, (d/dx + i d/dy) F_lm = p F_{l-1,m+1}, (d/dx - i d/dy) F_lm = m F_{l-1,m-1}
    std::vector<double> ladder_z_, ladder_p_, ladder_m_;  // [lm_count(lmax)], m >= 0
    SphericalHarmonics ylm_;
};

}  // namespace forcefit::ace
