// Jacobian blocks of Ctilde ACE energies, forces and virials with respect to the trainable parameters, for
// least-squares fitting (Levenberg-Marquardt, geodesic LM, trust-region reflective).  Model, parameters and
// their flat layout theta = (ctilde [n_ctilde], crad [n_crad]) as in ctilde_gradients.hpp.
//
// For configurations c = 0..C-1 owning atoms atom_offset[c]..atom_offset[c+1]-1 of a CSR full neighbour
// list (as parameter_vjp takes it) the rows, each [P] with P = n_ctilde + n_crad, are
//   jac_energy [C][P]    dE_c/dtheta                                          (eV)
//   jac_forces [3N][P]   dF_{k,a}/dtheta, row 3k + a                          (eV/Å)
//   jac_virial [6C][P]   dW_{c,v}/dtheta, row 6c + v, Voigt xx yy zz yz xz xy  (eV)
// with W = -sum_pairs r_ij (x) dE_i/dr_ij, off-diagonals symmetrised, exactly as parameter_vjp's virial, so
// that J^T (dL_dE, dL_dF, dL_dW) is parameter_vjp's gradient.
//
// Scheme (exact; forward over reverse, many tangents at once).  With g_ij = dE_i/dr_ij the force and virial
// rows are linear in the derivatives dg_{ij,a}/dtheta:
//   dF_{i,a} += dg_{ij,a},   dF_{j,a} -= dg_{ij,a},   dW_{c,ab} -= r_{ij,a} dg_{ij,b},
// and the energy row collects dE_i/dtheta.  Per atom i the evaluation is done once in real arithmetic (values
// and the ordinary reverse sweep: dE_i/dtheta), then the 3 n_i directions "move neighbour j along axis a"
// (n_i = neighbours inside the cutoff) are taken in blocks of K = 8 tangents: leaves A, A1 and rho_core
// get the tangents of their r_ij, the product DAG, densities and embedding derivative are swept forward with
// K tangents per value and the reverse sweep is repeated in the same arithmetic, which leaves
// d/dr_{ij,a} (dE_i/dtheta) at every parameter entry point (product terms, rank-1 slots, crad through
// abar . Y g_k) -- the vector-Jacobian product's kernel with the single tangent t replaced by K unit tangents.
// The embedding enters only through embedding_value and its second derivative (ctilde_internal.hpp), so
// every embedding kind the model knows is covered.
//
// Cost per atom: one energy+gradient pass plus 3 n_i tangent sweeps of the DAG (forward and reverse, 8 at a
// time with the directions in the innermost loops) and 5 row updates of length P' per direction (P' = product
// slots + rank-1 slots + n_crad <= P; mirror-image m-tuples share a slot).  The crad entries reached through
// the leaves' adjoint tangents use Z_{mu,lm,q} = sum_{j of species mu} Y_lm(r_ij) g_q(r_ij), summed once per
// atom, so they cost O(n_i nradmax (lmax+1)^2 nradbase), not O(n_i^2 ...).  Measured on pacemaker's AlNi
// example (rcut 6 Å, n_i ~ 63, P = 292, one thread): 190 µs/atom, 11 times parameter_vjp (17 µs/atom), for
// 3 + 7/N_c rows per atom.  Memory: the caller's output blocks, plus per thread one workspace of
// O(K (leaves + DAG nodes) + K P') and one row buffer of (7 + 3 N_c) P' doubles for the configuration it
// works on; callers bound the total by passing configurations in chunks.
//
// Threads own whole configurations (dynamic schedule): every row is summed by one thread in atom order,
// so the results do not depend on the thread count; parallelism is limited to the configurations of a call.
#pragma once

#include <cstdint>

#include "forcefit/ace/ctilde_gradients.hpp"

namespace forcefit::ace {

struct JacobianOptions {
    bool splines = false;  ///< analytic radial functions (default, for fitting) or the (current) spline tables
    int num_threads = 0;   ///< 0: OpenMP default
};

/// Jacobian blocks (see the file comment).  Inputs as parameter_vjp: natoms, species[N], first[N+1], neigh[P],
/// rij[P][3], nconfigs C, atom_offset[C+1].  Outputs (caller-allocated, overwritten): energies[C] (eV),
/// forces[N][3] (eV/Å), virial[C][6] (eV, Voigt), jac_energy[C][P], jac_forces[3N][P], jac_virial[6C][P]
/// (row-major, P = n_ctilde + n_crad in ParameterLayout order).  Throws InputError for a malformed batch
/// or a model that dropped zero ctildes (build it with keep_zero_terms = true).
void parameter_jacobian(const CtildeModel& model, std::int64_t natoms, const std::int32_t* species,
                        const std::int64_t* first, const std::int64_t* neigh, const double* rij,
                        std::int64_t nconfigs, const std::int64_t* atom_offset, const JacobianOptions& options,
                        double* energies, double* forces, double* virial, double* jac_energy, double* jac_forces,
                        double* jac_virial);

}  // namespace forcefit::ace

// Python (forcefit._core.AceCtildeModel, python/src/bind_ace.cpp):
//   model.parameter_jacobian(species [N] int32, first [N+1], neigh [P], rij [P,3], atom_offset [C+1],
//                            splines=False, num_threads=0)
//       -> (energies [C], forces [N,3], virial [C,6], jac_energy [C,P], jac_forces [3N,P], jac_virial [6C,P])
