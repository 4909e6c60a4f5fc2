// Geometry of a simulation cell for neighbor searches: validation, fractional coordinates and the
// distances between lattice planes.
//
// Convention (ASE's): the cell is a 3x3 row-major matrix whose ROWS are the lattice vectors a_0, a_1,
// a_2 in Å, and a position r (row vector) has fractional coordinates f with r = f @ cell.
//
// Directions that are not periodic may have zero or degenerate lattice vectors (a molecule with an
// all-zero cell). Neighbor searches never shift atoms along them, so any basis completion is valid
// there: when the given cell is singular, the non-periodic rows are replaced by unit vectors
// orthogonal to the periodic ones (the "effective" lattice below). A nonsingular cell is kept as
// given, so fractional coordinates match the ones KLIFF and ASE compute from the same cell.
#pragma once

#include <array>
#include <string>

namespace forcefit {

using Vec3 = std::array<double, 3>;
/// 3x3 matrix stored as three rows.
using Mat3 = std::array<Vec3, 3>;

/// A validated cell ready for binning.
struct CellGeometry {
    Mat3 input;                    ///< the cell as given (rows = lattice vectors, Å)
    Mat3 lattice;                  ///< effective lattice: periodic rows as given, non-periodic rows completed
    Mat3 inverse;                  ///< lattice^-1; fractional f = r @ inverse
    Vec3 plane_distance;           ///< distance between lattice planes k of `lattice` (Å): 1/|column k of inverse|
    std::array<bool, 3> pbc;       ///< periodic directions
    int n_periodic = 0;            ///< number of periodic directions
    double volume = 0.0;           ///< |det(lattice)| (Å^3)
};

/// Validate `cell` (row-major 3x3, Å) and `pbc`, and build the effective lattice.
/// Throws InputError (naming the cell and its value) for non-finite entries, or when the lattice
/// vectors of the periodic directions are zero or linearly dependent.
CellGeometry make_cell_geometry(const double* cell, const bool* pbc);

/// Fractional coordinates of the Cartesian row vector r (Å).
inline Vec3 to_fractional(const CellGeometry& g, const double* r) {
    Vec3 f;
    for (int k = 0; k < 3; ++k)
        f[k] = r[0] * g.inverse[0][k] + r[1] * g.inverse[1][k] + r[2] * g.inverse[2][k];
    return f;
}

/// The Cartesian vector s @ lattice for integer or real coefficients s.
inline Vec3 lattice_combination(const Mat3& lattice, double s0, double s1, double s2) {
    Vec3 v;
    for (int c = 0; c < 3; ++c) v[c] = s0 * lattice[0][c] + s1 * lattice[1][c] + s2 * lattice[2][c];
    return v;
}

/// Smallest |delta @ lattice| over the box lo[k] <= delta[k] <= hi[k] (fractional units), in Å.
/// Exact (enumerates the active sets of the box-constrained quadratic); used to prune bin stencils.
double min_norm_over_box(const Mat3& lattice, const Vec3& lo, const Vec3& hi);

/// Text "[[a, b, c], [d, e, f], [g, h, i]]" for error messages.
std::string format_matrix(const double* m);

}  // namespace forcefit
