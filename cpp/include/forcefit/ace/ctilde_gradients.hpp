// Derivatives of Ctilde ACE energies, forces and virials with respect to the trainable parameters, as a
// vector-Jacobian product (see ctilde_model.hpp for the model).
//
// Trainable parameters (everything else -- E0, embedding FS parameters, core repulsion, cutoffs, radial
// basis parameters -- is fixed, as in python-ace):
//
//   ctilde  every Ctilde coefficient of every function, rank 1 included, flattened as
//             for mu in 0..nelements-1            (central species)
//               for f in functions[mu]            (list order of CtildeSpec::functions[mu])
//                 for c in 0..num_ms_combs(f)-1
//                   for p in 0..ndensity-1:       index ctilde_offsets[g] + c*ndensity + p,
//           g = global function index (species-major, list order); ctilde_offsets has one entry per
//           function plus the total, function_first[mu] is the global index of mu's first function.
//           (This is CtildeFunctionSpec::ctildes concatenated in that order.)
//   crad    radial coefficients of every bond, bonds b = mu_i*nelements + mu_j in that order, each
//           [nradmax][lmax+1][nradbasemax] as BondSpec::crad: index crad_offsets[b] + (n*(lmax+1)+l)*nb + k.
//
// Vector-Jacobian product.  For configurations c = 0..C-1 owning atoms atom_offset[c]..atom_offset[c+1]-1
// and a global CSR full neighbour list (as CtildeModel::compute takes it),
//   E_c = sum of the atom energies of c (eV),   F = forces [N][3] (eV/Å),
//   W_c = virial of c in Voigt order (xx, yy, zz, yz, xz, xy), W = -sum_pairs r_ij (x) dE_i/dr_ij (eV),
//         the off-diagonal entries symmetrised ((W_ab + W_ba)/2; the model is rotation invariant, so W is
//         symmetric); stress = -W/V in ASE's sign convention,
// and adjoints dL_dE [C], dL_dF [N][3], dL_dW [C][6] (may be null), the functions return
//   grad = sum_c dL_dE_c dE_c/dtheta + sum_k dL_dF_k . dF_k/dtheta + sum_c dL_dW_c . dW_c/dtheta
// for every parameter theta, without forming a Jacobian.  The force and virial parts use
//   sum_k delta_k . F_k + sum_c Omega_c : W_c = -(d/deps) E(r_ij + eps t_ij) at eps = 0,
//   t_ij = delta_j - delta_i + Omega_c r_ij  (delta = dL_dF, Omega_c = dL_dW_c as a symmetric 3x3 matrix
//   with Omega_yz = Omega_zy = dL_dW_yz / 2 etc.),
// so grad = d/dtheta [ sum_i dL_dE_c(i) E_i - d/deps E_i ]: each atom is evaluated once in dual-number
// arithmetic along t (forward mode) and the product DAG is swept backwards in the same arithmetic
// (reverse mode over theta), "forward over reverse".  Cost: a few energy+force evaluations, whatever the
// number of parameters; memory: one dual workspace per thread plus one gradient accumulator per thread.
// The same call returns energies, forces and virials, so a loss and its gradient need one call.
// Threads over atoms (static schedule); per-thread accumulators are summed in thread order, so results
// are reproducible for a given thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "forcefit/ace/ctilde_model.hpp"

namespace forcefit::ace {

/// Flat parameter layout of a model (see the file comment).
struct ParameterLayout {
    std::int64_t n_ctilde = 0, n_crad = 0;
    std::vector<std::int64_t> function_first;  ///< [nelements + 1] global index of species mu's first function
    std::vector<std::int64_t> ctilde_offsets;  ///< [nfunctions + 1]
    std::vector<std::int64_t> crad_offsets;    ///< [nelements^2 + 1]
};

ParameterLayout parameter_layout(const CtildeModel& model);

/// Current parameters, in the flat layout: ctilde [n_ctilde], crad [n_crad].
void get_parameters(const CtildeModel& model, double* ctilde, double* crad);

/// Replace all trainable parameters (ctilde [n_ctilde], crad [n_crad]).  The product DAG is kept; the
/// model must have been built with keep_zero_terms = true for every ctilde to have a place in it (else
/// InputError when a dropped term would become non-zero).  rebuild_splines = false leaves the spline tables
/// stale: spline evaluation then throws until the next set_parameters with rebuild_splines = true.
void set_parameters(CtildeModel& model, const double* ctilde, const double* crad, bool rebuild_splines = true);

struct VjpOptions {
    bool splines = false;   ///< analytic radial functions (default, for fitting) or the spline tables; the
                            ///< gradient is exact for whichever model is evaluated (R_nl's Hermite table is
                            ///< linear in crad), but the tables must be current (set_parameters rebuild)
    int num_threads = 0;    ///< 0: OpenMP default
    bool outputs = true;    ///< also evaluate energies/forces/virial (false: callers that have them already
                            ///< skip one energy+force pass; the output pointers are then not touched)
};

/// The vector-Jacobian product (see the file comment).  Inputs: natoms, species[N], first[N+1], neigh[P],
/// rij[P][3], nconfigs C, atom_offset[C+1] (atom_offset[0] = 0, atom_offset[C] = N, pairs of atoms of
/// config c must have owners in c), dL_dE[C], dL_dF[N][3], dL_dW[C][6] or nullptr.  Outputs
/// (caller-allocated): energies[C] (eV), forces[N][3] (eV/Å), virial[C][6] (eV, Voigt as above),
/// grad_ctilde[n_ctilde], grad_crad[n_crad] (overwritten).
/// All adjoints zero: only the outputs are evaluated (the gradient is zero), a cheap way to get per-configuration
/// virials.  Throws InputError if the model dropped zero ctildes (build it with keep_zero_terms = true).
void parameter_vjp(const CtildeModel& model, std::int64_t natoms, const std::int32_t* species,
                   const std::int64_t* first, const std::int64_t* neigh, const double* rij, std::int64_t nconfigs,
                   const std::int64_t* atom_offset, const double* dL_dE, const double* dL_dF, const double* dL_dW,
                   const VjpOptions& options, double* energies, double* forces, double* virial,
                   double* grad_ctilde, double* grad_crad);

}  // namespace forcefit::ace

// Python (forcefit._core.AceCtildeModel, python/src/bind_ace.cpp):
//   AceCtildeModel(potential, atomic_numbers=[], share_products=True, keep_zero_terms=False)
//       keep_zero_terms=True for fitting (every ctilde, zero or not, gets its product in the DAG).
//   model.parameter_layout() -> dict(n_ctilde, n_crad, function_first, ctilde_offsets, crad_offsets)
//   model.get_parameters() -> (ctilde [n_ctilde], crad [n_crad])
//   model.set_parameters(ctilde, crad, rebuild_splines=True)
//   model.parameter_vjp(species [N] int32, first [N+1], neigh [P], rij [P,3], atom_offset [C+1],
//                       dL_dE [C], dL_dF [N,3], dL_dW [C,6] or None, splines=False, num_threads=0,
//                       outputs=True)
//       -> (energies [C], forces [N,3], virial [C,6], grad_ctilde [n_ctilde], grad_crad [n_crad]);
//       outputs=False returns None for energies, forces and virial (saves one energy+force pass).
