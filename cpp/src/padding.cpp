#include "forcefit/padding.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "forcefit/cell_geometry.hpp"
#include "forcefit/error.hpp"

namespace forcefit {

namespace {

// Widening of the atoms' fractional range, so atoms exactly on its edge keep their images.
constexpr double kRangeTolerance = 1e-10;
constexpr double kMaxPadding = 2.0e9;

}  // namespace

Padding create_padding(const AtomsView& atoms, double influence_distance) {
    if (!std::isfinite(influence_distance) || !(influence_distance > 0.0)) {
        std::ostringstream msg;
        msg.precision(17);
        msg << "infl_dist: must be a finite number > 0, got " << influence_distance;
        throw InputError(msg.str());
    }
    if (!atoms.cell || !atoms.pbc || (!atoms.positions && atoms.n_atoms > 0))
        throw InputError("create_padding: null positions, cell or pbc");
    const CellGeometry g = make_cell_geometry(atoms.cell, atoms.pbc);
    const std::size_t n = atoms.n_atoms;
    if (n > 0x7fffffffu) throw InputError("positions: too many atoms (" + std::to_string(n) + ")");

    std::vector<Vec3> frac(n);
    Vec3 fmin{INFINITY, INFINITY, INFINITY}, fmax{-INFINITY, -INFINITY, -INFINITY};
    for (std::size_t a = 0; a < n; ++a) {
        const double* r = atoms.positions + 3 * a;
        for (int c = 0; c < 3; ++c)
            if (!std::isfinite(r[c]))
                throw InputError("positions: atom " + std::to_string(a) + " has a non-finite coordinate");
        frac[a] = to_fractional(g, r);
        for (int k = 0; k < 3; ++k) {
            fmin[k] = std::min(fmin[k], frac[a][k]);
            fmax[k] = std::max(fmax[k], frac[a][k]);
        }
    }
    Padding pad;
    if (n == 0) return pad;

    // Image (a, S) is kept iff fmin_k - ratio_k <= f_ak + S_k <= fmax_k + ratio_k along every
    // periodic k. For atoms inside one cell (fmax - fmin <= 1) only |S_k| <= ceil(ratio_k) can pass
    // and the test is KLIFF's; atoms spread over several cells (unwrapped input) need wider shifts.
    int size[3];
    double ratio[3];
    double count = 1.0;
    for (int k = 0; k < 3; ++k) {
        fmin[k] -= kRangeTolerance;
        fmax[k] += kRangeTolerance;
        ratio[k] = influence_distance / g.plane_distance[k];
        const double widest = std::max(std::ceil(ratio[k]), std::ceil(ratio[k] + fmax[k] - fmin[k] - 1.0));
        size[k] = g.pbc[k] ? static_cast<int>(std::min(widest, 1e9)) : 0;
        count *= 2.0 * size[k] + 1.0;
    }
    if (count * double(n) > kMaxPadding) {
        std::ostringstream msg;
        msg << "infl_dist: " << influence_distance << " Å would create about " << count * double(n)
            << " padding atoms for a cell with plane distances (" << g.plane_distance[0] << ", "
            << g.plane_distance[1] << ", " << g.plane_distance[2] << ") Å";
        throw InputError(msg.str());
    }

    for (int s0 = -size[0]; s0 <= size[0]; ++s0) {
        for (int s1 = -size[1]; s1 <= size[1]; ++s1) {
            for (int s2 = -size[2]; s2 <= size[2]; ++s2) {
                if (s0 == 0 && s1 == 0 && s2 == 0) continue;
                const int s[3] = {s0, s1, s2};
                const Vec3 offset = lattice_combination(g.input, s0, s1, s2);
                for (std::size_t a = 0; a < n; ++a) {
                    bool keep = true;
                    for (int k = 0; k < 3 && keep; ++k) {
                        if (size[k] == 0) continue;
                        // Written as KLIFF compares in its outermost shell: distance of the atom from
                        // the far end of the range against |S| - ratio.
                        if (s[k] < 0 && frac[a][k] - fmin[k] < -s[k] - ratio[k]) keep = false;
                        if (s[k] > 0 && fmax[k] - frac[a][k] < s[k] - ratio[k]) keep = false;
                    }
                    if (!keep) continue;
                    const double* r = atoms.positions + 3 * a;
                    for (int c = 0; c < 3; ++c) pad.positions.push_back(r[c] + offset[c]);
                    pad.image.push_back(static_cast<std::int32_t>(a));
                    for (int k = 0; k < 3; ++k) pad.shifts.push_back(s[k]);
                }
            }
        }
    }
    return pad;
}

std::vector<double> assemble_forces(const double* forces_all, std::size_t n_all,
                                    std::size_t n_contributing, const std::int32_t* padding_image) {
    if (n_contributing > n_all)
        throw InputError("n: " + std::to_string(n_contributing) + " contributing atoms but forces has only " +
                         std::to_string(n_all) + " rows");
    std::vector<double> total(forces_all, forces_all + 3 * n_contributing);
    for (std::size_t p = 0; p < n_all - n_contributing; ++p) {
        const std::int32_t owner = padding_image[p];
        if (owner < 0 || std::size_t(owner) >= n_contributing)
            throw InputError("padding_image: entry " + std::to_string(p) + " is " +
                             std::to_string(owner) + ", outside [0, " +
                             std::to_string(n_contributing) + ")");
        const double* f = forces_all + 3 * (n_contributing + p);
        for (int c = 0; c < 3; ++c) total[3 * std::size_t(owner) + c] += f[c];
    }
    return total;
}

std::array<double, 6> assemble_stress(const double* coords, const double* forces, std::size_t n,
                                      double volume) {
    if (!std::isfinite(volume) || !(volume > 0.0)) {
        std::ostringstream msg;
        msg.precision(17);
        msg << "volume: must be a finite number > 0, got " << volume;
        throw InputError(msg.str());
    }
    // Voigt pairs (position component, force component), KLIFF's choice for the off-diagonals.
    constexpr int kPairs[6][2] = {{0, 0}, {1, 1}, {2, 2}, {1, 2}, {2, 0}, {0, 1}};
    std::array<double, 6> stress{};
    for (int v = 0; v < 6; ++v) {
        double sum = 0.0;
        for (std::size_t a = 0; a < n; ++a) sum += coords[3 * a + kPairs[v][0]] * forces[3 * a + kPairs[v][1]];
        stress[v] = -sum / volume;
    }
    return stress;
}

}  // namespace forcefit
