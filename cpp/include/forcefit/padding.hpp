// Padding atoms, the way KIM, LAMMPS and KLIFF handle periodic boundaries.
//
// The N atoms of a configuration are "contributing" atoms. Periodic images of them that lie within
// the influence distance of the contributing atoms become "padding" atoms, appended after the
// contributing ones; padding_image[p] is the contributing atom that padding atom p images. A
// potential then runs on the extended (contributing + padding) atoms with plain, non-periodic
// neighbor lists, computes energies of contributing atoms only, and folds the forces on padding atoms
// back onto their images (assemble_forces). The virial of the extended system gives the stress
// (assemble_stress).
//
// Selection rule (KLIFF's): with fractional coordinates f of the contributing atoms, their range
// [fmin_k, fmax_k] along each periodic direction k (widened by 1e-10) and ratio_k = infl / d_k
// (d_k the distance between lattice planes), the image of atom a shifted by S (S != 0, S_k = 0 along
// non-periodic directions) is kept iff fmin_k - ratio_k <= f_ak + S_k <= fmax_k + ratio_k for all k.
// For atoms within one cell this is exactly KLIFF's set (|S_k| <= ceil(ratio_k)); KLIFF misses
// images when the input atoms spread over more than one cell, this rule does not. Order: S_0, then
// S_1, then S_2 ascending, atoms ascending within one S (the order KLIFF produces).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "forcefit/neighbor_list.hpp"

namespace forcefit {

/// Padding atoms of a configuration.
struct Padding {
    std::vector<double> positions;     ///< [n_padding, 3] Cartesian (Å): positions[image] + shift @ cell
    std::vector<std::int32_t> image;   ///< [n_padding] contributing atom each padding atom images
    std::vector<std::int32_t> shifts;  ///< [n_padding, 3] lattice shift S of each padding atom
    std::size_t size() const { return image.size(); }
};

/// Create the padding atoms for `atoms` within `influence_distance` (Å, > 0).
/// Throws InputError for bad input (like build_neighbor_list) or too many padding atoms.
Padding create_padding(const AtomsView& atoms, double influence_distance);

/// Forces on contributing atoms: rows [0, n_contributing) of `forces_all` ([n_all, 3], eV/Å) plus,
/// for each padding atom p, forces_all[n_contributing + p] added to row padding_image[p].
/// Returns [n_contributing, 3] row-major. Throws InputError for an image index out of range.
std::vector<double> assemble_forces(const double* forces_all, std::size_t n_all,
                                    std::size_t n_contributing, const std::int32_t* padding_image);

/// Virial stress of the extended system in Voigt order xx, yy, zz, yz, xz, xy (eV/Å^3):
/// sigma_ab = -sum_n coords[n,a] * forces[n,b] / volume, with the pairs (1,2), (2,0), (0,1) for the
/// off-diagonal entries (KLIFF's definition; tensile positive as in ASE for forces summing to zero).
/// `coords`, `forces`: [n, 3] of all (contributing + padding) atoms; volume in Å^3, > 0.
std::array<double, 6> assemble_stress(const double* coords, const double* forces, std::size_t n,
                                      double volume);

}  // namespace forcefit
