// Full neighbor lists by linked cells (cell lists), with ASE's definition of a pair.
//
// Definition (ase.neighborlist.neighbor_list): for atoms i, j and an integer shift S (zero along
// non-periodic directions),
//     D = positions[j] - positions[i] + S @ cell,   d = |D|,
// and (i, j, S) is a pair iff d < cutoff (strict; per species pair: cutoff[species[i]][species[j]]).
// (i, i, 0) is a pair only with self_interaction. The list is full: (i, j, S) and (j, i, -S) both
// appear. S refers to the positions as given (not wrapped into the cell).
//
// Algorithm (linear in the number of atoms):
//  1. Fractional coordinates f = r @ cell^-1; periodic directions are wrapped into [0, 1) once,
//     remembering the integer wrap of every atom.
//  2. Bins are parallelepipeds in fractional space: n_k = floor(L_k / w) bins along direction k,
//     where L_k is the distance between lattice planes (periodic) or the atoms' extent across the
//     planes (non-periodic) and w ~ cutoff/2 (capped so there are O(N) bins). Bins narrower than the
//     cutoff keep the candidate volume close to the cutoff sphere.
//  3. Atoms are counting-sorted by bin so each bin (and each row of bins along direction 0) is one
//     contiguous run of memory.
//  4. A stencil of bin offsets is built once: the offsets within ceil(cutoff * n_k / d_k) + 1 bins,
//     pruned to those whose parallelepipeds can hold two points closer than the cutoff (exact minimum
//     distance over the bin box; this also handles very skewed cells). Periodic offsets wrap, with the
//     wrap giving the lattice shift; offsets may wrap several times when the cell is thinner than the
//     cutoff, which yields the many images of small cells. Non-periodic offsets are clamped.
//  5. Atoms are processed in input order, split into contiguous chunks (16 per OpenMP thread, handed
//     out dynamically); each chunk writes its own buffers and the buffers are concatenated in chunk
//     order, so the output is sorted by i and identical for any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace forcefit {

/// Atoms and cell a neighbor search runs on (non-owning views).
struct AtomsView {
    const double* positions = nullptr;  ///< [n_atoms, 3] row-major Cartesian positions (Å)
    std::size_t n_atoms = 0;
    const double* cell = nullptr;       ///< [3, 3] row-major, rows are lattice vectors (Å)
    const bool* pbc = nullptr;          ///< [3] periodic directions
};

/// Per-species-pair cutoffs: pair (i, j) needs d < matrix[species[i] * n_species + species[j]].
struct SpeciesCutoffs {
    const std::int32_t* species = nullptr;  ///< [n_atoms] species index in [0, n_species)
    const double* matrix = nullptr;         ///< [n_species, n_species] symmetric, >= 0 (Å); 0 = never
    int n_species = 0;
};

/// What to compute.
struct NeighborListOptions {
    bool self_interaction = false;  ///< include (i, i, 0) with D = 0, d = 0
    bool want_shifts = true;        ///< fill NeighborPairs::shifts
    bool want_vectors = false;      ///< fill NeighborPairs::vectors
    bool want_distances = false;    ///< fill NeighborPairs::distances
    /// Build lists only for the first n_centers atoms (all atoms are candidate neighbors);
    /// negative means all atoms. Used for KIM/KLIFF contributing atoms among padding atoms.
    std::int64_t n_centers = -1;
};

/// A full neighbor list in CSR layout, sorted by center atom.
struct NeighborPairs {
    std::vector<std::int64_t> first;      ///< [n_centers + 1]: pairs of center i are [first[i], first[i+1])
    std::vector<std::int32_t> i;          ///< [n_pairs] center atom
    std::vector<std::int32_t> j;          ///< [n_pairs] neighbor atom
    std::vector<std::int32_t> shifts;     ///< [n_pairs, 3] row-major integer lattice shifts S
    std::vector<double> vectors;          ///< [n_pairs, 3] row-major D (Å), when requested
    std::vector<double> distances;        ///< [n_pairs] d (Å), when requested
    std::size_t size() const { return j.size(); }
};

/// Neighbor list with one cutoff (Å, > 0). Throws InputError for bad input (non-finite positions,
/// cutoff <= 0 or non-finite, singular periodic cell, too many atoms or images).
NeighborPairs build_neighbor_list(const AtomsView& atoms, double cutoff,
                                  const NeighborListOptions& options = {});

/// Neighbor list with per-species-pair cutoffs; the search radius is the largest entry.
NeighborPairs build_neighbor_list(const AtomsView& atoms, const SpeciesCutoffs& cutoffs,
                                  const NeighborListOptions& options = {});

}  // namespace forcefit
