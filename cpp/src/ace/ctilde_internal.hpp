// Pieces shared by the parameter-derivative kernels of the Ctilde ACE model (ctilde_gradients.cpp, the
// vector-Jacobian product, and ctilde_jacobian.cpp, the Jacobian blocks).  Internal: not installed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "forcefit/ace/ctilde_model.hpp"

namespace forcefit::ace::detail {

/// Per-configuration energies [C], forces [N][3] and Voigt virials [C][6] (xx yy zz yz xz xy, off-diagonals
/// symmetrised) from atom energies and dE_i/dr_ij, serially in pair order (deterministic).
void reduce_outputs(std::int64_t natoms, const std::int64_t* first, const std::int64_t* neigh, const double* rij,
                    std::int64_t nconfigs, const std::int64_t* config, const double* atom_energy,
                    const double* pair_grad, double* energies, double* forces, double* virial);

/// Checks a batch (species in range, CSR list and atom_offset well formed, no pair linking two
/// configurations) and returns the configuration of every atom [N]; InputError messages start with `who`.
std::vector<std::int64_t> check_batch(int nelements, std::int64_t natoms, const std::int32_t* species,
                                      const std::int64_t* first, const std::int64_t* neigh, std::int64_t nconfigs,
                                      const std::int64_t* atom_offset, const std::string& who);

}  // namespace forcefit::ace::detail
