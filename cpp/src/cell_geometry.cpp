#include "forcefit/cell_geometry.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "forcefit/error.hpp"

namespace forcefit {

namespace {

// Below this normalized volume (|det| / product of norms) a set of lattice vectors is singular:
// fractional coordinates would lose all precision long before.
constexpr double kSingularTolerance = 1e-10;

Vec3 cross(const Vec3& a, const Vec3& b) {
    return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }
Vec3 scaled(const Vec3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }

double normalized_volume(const Mat3& m) {
    const double norms = norm(m[0]) * norm(m[1]) * norm(m[2]);
    if (norms == 0.0) return 0.0;
    return std::abs(dot(m[0], cross(m[1], m[2]))) / norms;
}

Mat3 inverse_of(const Mat3& m) {
    const double det = dot(m[0], cross(m[1], m[2]));
    // Columns of the inverse are the reciprocal vectors (a_1 x a_2) / det, ...
    const Vec3 c0 = cross(m[1], m[2]), c1 = cross(m[2], m[0]), c2 = cross(m[0], m[1]);
    Mat3 inv;
    for (int r = 0; r < 3; ++r) {
        inv[r][0] = c0[r] / det;
        inv[r][1] = c1[r] / det;
        inv[r][2] = c2[r] / det;
    }
    return inv;
}

// A unit vector orthogonal to the unit vector u.
Vec3 any_orthogonal_unit(const Vec3& u) {
    int least = 0;
    for (int c = 1; c < 3; ++c)
        if (std::abs(u[c]) < std::abs(u[least])) least = c;
    Vec3 e{0.0, 0.0, 0.0};
    e[least] = 1.0;
    const Vec3 v = {e[0] - u[least] * u[0], e[1] - u[least] * u[1], e[2] - u[least] * u[2]};
    return scaled(v, 1.0 / norm(v));
}

std::string format_pbc(const bool* pbc) {
    std::ostringstream out;
    out << "[" << (pbc[0] ? "True" : "False") << ", " << (pbc[1] ? "True" : "False") << ", "
        << (pbc[2] ? "True" : "False") << "]";
    return out.str();
}

// Replace the non-periodic rows of a singular cell by unit vectors orthogonal to the periodic rows.
Mat3 complete_lattice(const Mat3& input, const std::array<bool, 3>& pbc, int n_periodic) {
    Mat3 lattice = input;
    int periodic[3], free_rows[3], n_free = 0, np = 0;
    for (int k = 0; k < 3; ++k) (pbc[k] ? periodic[np++] : free_rows[n_free++]) = k;
    Vec3 basis[3];
    if (n_periodic == 0) {
        basis[0] = {1.0, 0.0, 0.0};
        basis[1] = {0.0, 1.0, 0.0};
        basis[2] = {0.0, 0.0, 1.0};
    } else if (n_periodic == 1) {
        const Vec3 u = scaled(input[periodic[0]], 1.0 / norm(input[periodic[0]]));
        basis[0] = any_orthogonal_unit(u);
        basis[1] = cross(u, basis[0]);
    } else {
        const Vec3 n = cross(input[periodic[0]], input[periodic[1]]);
        basis[0] = scaled(n, 1.0 / norm(n));
    }
    for (int f = 0; f < n_free; ++f) lattice[free_rows[f]] = basis[f];
    return lattice;
}

// Solve the n x n (n <= 3) symmetric positive definite system a x = b in place by elimination.
void solve_small(double a[3][3], double b[3], int n) {
    for (int p = 0; p < n; ++p) {
        for (int r = p + 1; r < n; ++r) {
            const double f = a[r][p] / a[p][p];
            for (int c = p; c < n; ++c) a[r][c] -= f * a[p][c];
            b[r] -= f * b[p];
        }
    }
    for (int p = n - 1; p >= 0; --p) {
        double s = b[p];
        for (int c = p + 1; c < n; ++c) s -= a[p][c] * b[c];
        b[p] = s / a[p][p];
    }
}

}  // namespace

std::string format_matrix(const double* m) {
    std::ostringstream out;
    out.precision(10);
    out << "[";
    for (int r = 0; r < 3; ++r) {
        out << (r ? ", [" : "[") << m[3 * r] << ", " << m[3 * r + 1] << ", " << m[3 * r + 2] << "]";
    }
    out << "]";
    return out.str();
}

CellGeometry make_cell_geometry(const double* cell, const bool* pbc) {
    CellGeometry g;
    for (int r = 0; r < 3; ++r) {
        g.pbc[r] = pbc[r];
        for (int c = 0; c < 3; ++c) {
            if (!std::isfinite(cell[3 * r + c]))
                throw InputError("cell: entries must be finite, got " + format_matrix(cell));
            g.input[r][c] = cell[3 * r + c];
        }
    }
    g.n_periodic = int(pbc[0]) + int(pbc[1]) + int(pbc[2]);

    // The periodic lattice vectors must span a line, plane or volume.
    for (int k = 0; k < 3; ++k) {
        if (pbc[k] && norm(g.input[k]) == 0.0) {
            std::ostringstream msg;
            msg << "cell: lattice vector " << k << " is zero but direction " << k
                << " is periodic (pbc=" << format_pbc(pbc) << "), cell=" << format_matrix(cell);
            throw InputError(msg.str());
        }
    }
    double periodic_measure = 1.0;
    if (g.n_periodic == 2) {
        int p[2], np = 0;
        for (int k = 0; k < 3; ++k)
            if (pbc[k]) p[np++] = k;
        periodic_measure = norm(cross(g.input[p[0]], g.input[p[1]])) /
                           (norm(g.input[p[0]]) * norm(g.input[p[1]]));
    } else if (g.n_periodic == 3) {
        periodic_measure = normalized_volume(g.input);
    }
    if (periodic_measure <= kSingularTolerance) {
        std::ostringstream msg;
        msg << "cell: the lattice vectors of the periodic directions (pbc=" << format_pbc(pbc)
            << ") are linearly dependent (singular cell), cell=" << format_matrix(cell);
        throw InputError(msg.str());
    }

    g.lattice = normalized_volume(g.input) > kSingularTolerance
                    ? g.input
                    : complete_lattice(g.input, g.pbc, g.n_periodic);
    g.inverse = inverse_of(g.lattice);
    g.volume = std::abs(dot(g.lattice[0], cross(g.lattice[1], g.lattice[2])));
    for (int k = 0; k < 3; ++k) {
        const Vec3 reciprocal = {g.inverse[0][k], g.inverse[1][k], g.inverse[2][k]};
        g.plane_distance[k] = 1.0 / norm(reciprocal);
    }
    return g;
}

double min_norm_over_box(const Mat3& lattice, const Vec3& lo, const Vec3& hi) {
    if (lo[0] <= 0 && hi[0] >= 0 && lo[1] <= 0 && hi[1] >= 0 && lo[2] <= 0 && hi[2] >= 0) return 0.0;
    double gram[3][3];
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) gram[a][b] = dot(lattice[a], lattice[b]);

    double best = INFINITY;
    // Each coordinate is free, at its lower bound or at its upper bound: the minimizer of the convex
    // quadratic is the stationary point of one of these 27 faces that lies inside the box.
    for (int state = 0; state < 27; ++state) {
        int mode[3] = {state % 3, (state / 3) % 3, state / 9};  // 0 free, 1 lo, 2 hi
        double delta[3] = {0.0, 0.0, 0.0};
        int free_idx[3], n_free = 0;
        for (int k = 0; k < 3; ++k) {
            if (mode[k] == 0) free_idx[n_free++] = k;
            else delta[k] = mode[k] == 1 ? lo[k] : hi[k];
        }
        if (n_free == 3) continue;  // the unconstrained minimum is 0, handled above
        if (n_free > 0) {
            double a[3][3], b[3];
            for (int r = 0; r < n_free; ++r) {
                b[r] = 0.0;
                for (int k = 0; k < 3; ++k)
                    if (mode[k] != 0) b[r] -= gram[free_idx[r]][k] * delta[k];
                for (int c = 0; c < n_free; ++c) a[r][c] = gram[free_idx[r]][free_idx[c]];
            }
            solve_small(a, b, n_free);
            bool inside = true;
            for (int r = 0; r < n_free; ++r) {
                const int k = free_idx[r];
                if (!(b[r] >= lo[k] && b[r] <= hi[k])) inside = false;
                delta[k] = b[r];
            }
            if (!inside) continue;
        }
        double value = 0.0;
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) value += delta[a] * gram[a][b] * delta[b];
        best = std::min(best, value);
    }
    return std::sqrt(std::max(best, 0.0));
}

}  // namespace forcefit
