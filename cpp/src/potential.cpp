// Potential::compute(): batch validation, zeroing, threads over configurations, stress scaling.
#include "forcefit/potential.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "forcefit/error.hpp"

namespace forcefit {

Potential::Potential(int n_species) : n_species_(n_species) {
    if (n_species < 1) {
        throw InputError("a potential needs at least one species, got " + std::to_string(n_species));
    }
}

std::size_t Potential::num_params() const {
    std::size_t n = 0;
    for (const auto& block : parameter_blocks()) n += block.size;
    return n;
}

void Potential::check_params(const double* params) const {
    for (std::size_t k = 0; k < num_params(); ++k) {
        if (!std::isfinite(params[k])) {
            throw InputError("parameter component " + std::to_string(k) + " is not finite");
        }
    }
}

void Potential::validate(const BatchView& b, const double* params) const {
    if (b.n_configs < 0 || b.n_atoms < 0 || b.n_pairs < 0) throw InputError("batch sizes must be non-negative");
    if (b.n_configs > 0 && (!b.atom_offset || !b.volume)) throw InputError("batch arrays missing");
    if (b.n_atoms > 0 && (!b.species || !b.first)) throw InputError("batch arrays missing");
    if (b.n_pairs > 0 && (!b.neigh || !b.rij)) throw InputError("batch arrays missing");
    if (b.n_configs > 0 && (b.atom_offset[0] != 0 || b.atom_offset[b.n_configs] != b.n_atoms)) {
        throw InputError("atom_offset must start at 0 and end at n_atoms");
    }
    if (b.n_atoms > 0 && (b.first[0] != 0 || b.first[b.n_atoms] != b.n_pairs)) {
        throw InputError("first must start at 0 and end at n_pairs");
    }
    check_params(params);
    const double needed = influence_distance(params);
    if (b.n_pairs > 0 && needed > b.cutoff) {
        std::ostringstream msg;
        msg.precision(12);
        msg << "the neighbor lists were built with cutoff " << b.cutoff
            << " Å but the parameters need " << needed << " Å: rebuild the batch with a larger cutoff";
        throw InputError(msg.str());
    }
    for (std::int64_t c = 0; c < b.n_configs; ++c) {
        if (b.atom_offset[c + 1] < b.atom_offset[c]) {
            throw InputError("atom_offset must be non-decreasing (configuration " + std::to_string(c) + ")");
        }
    }
}

// Checks of one configuration, run by the thread that computes it.
void Potential::validate_config(const BatchView& b, std::int64_t c) const {
    const std::int64_t a0 = b.atom_offset[c], a1 = b.atom_offset[c + 1];
    for (std::int64_t i = a0; i < a1; ++i) {
        if (b.species[i] < 0 || b.species[i] >= n_species_) {
            throw InputError("atom " + std::to_string(i) + " has species index " + std::to_string(b.species[i]) +
                             ", the potential has " + std::to_string(n_species_) + " species");
        }
        if (b.first[i + 1] < b.first[i]) throw InputError("first must be non-decreasing");
        for (std::int64_t p = b.first[i]; p < b.first[i + 1]; ++p) {
            if (b.neigh[p] < a0 || b.neigh[p] >= a1) {
                throw InputError("pair " + std::to_string(p) + " of atom " + std::to_string(i) + " points at atom " +
                                 std::to_string(b.neigh[p]) + " outside its configuration");
            }
        }
    }
}

void Potential::compute(const BatchView& b, const double* params, const Outputs& out) const {
    validate(b, params);
    const std::size_t n_params = num_params();
    ParamColumns cols;
    cols.column.assign(n_params, -1);
    if (out.selected) {
        for (std::size_t k = 0; k < out.n_selected; ++k) {
            const std::int32_t t = out.selected[k];
            if (t < 0 || static_cast<std::size_t>(t) >= n_params) {
                throw InputError("selected parameter index " + std::to_string(t) + " out of range [0, " +
                                 std::to_string(n_params) + ")");
            }
            if (cols.column[t] >= 0) throw InputError("selected parameter index " + std::to_string(t) + " repeated");
            cols.column[t] = static_cast<int>(k);
        }
        cols.n = out.n_selected;
    } else {
        for (std::size_t t = 0; t < n_params; ++t) cols.column[t] = static_cast<int>(t);
        cols.n = n_params;
    }
    const std::size_t np = cols.n;
    const std::size_t C = static_cast<std::size_t>(b.n_configs);

    // Each configuration is checked, zeroed and computed by one thread; it only writes its own
    // atoms and rows. Errors cannot leave the parallel region as exceptions: keep the one of the
    // lowest configuration, so the message does not depend on thread timing.
    std::string failure;
    std::int64_t failed_config = b.n_configs;
    const std::int64_t n_configs = b.n_configs;
#pragma omp parallel for schedule(dynamic, 4)
    for (std::int64_t c = 0; c < n_configs; ++c) {
        try {
            validate_config(b, c);
            const std::size_t a0 = static_cast<std::size_t>(b.atom_offset[c]);
            const std::size_t a1 = static_cast<std::size_t>(b.atom_offset[c + 1]);
            const std::size_t cc = static_cast<std::size_t>(c);
            if (out.energy) out.energy[cc] = 0.0;
            if (out.atom_energy) std::fill(out.atom_energy + a0, out.atom_energy + a1, 0.0);
            if (out.forces) std::fill(out.forces + 3 * a0, out.forces + 3 * a1, 0.0);
            if (out.stress) std::fill(out.stress + 6 * cc, out.stress + 6 * cc + 6, 0.0);
            if (out.denergy) std::fill(out.denergy + cc * np, out.denergy + (cc + 1) * np, 0.0);
            if (out.dforces) std::fill(out.dforces + 3 * a0 * np, out.dforces + 3 * a1 * np, 0.0);
            if (out.dstress) std::fill(out.dstress + 6 * cc * np, out.dstress + 6 * (cc + 1) * np, 0.0);
            compute_config(b, c, params, out, cols);
        } catch (const std::exception& e) {
#pragma omp critical(forcefit_potential_failure)
            if (c < failed_config) {
                failed_config = c;
                failure = e.what();
            }
        }
    }
    if (!failure.empty()) throw InputError(failure);

    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t c = 0; c < C; ++c) {
        const double v = b.volume[c];
        const double scale = v > 0.0 ? 1.0 / v : nan;
        if (out.stress) {
            for (int k = 0; k < 6; ++k) out.stress[6 * c + k] = v > 0.0 ? out.stress[6 * c + k] * scale : nan;
        }
        if (out.dstress) {
            double* row = out.dstress + 6 * c * np;
            for (std::size_t k = 0; k < 6 * np; ++k) row[k] = v > 0.0 ? row[k] * scale : nan;
        }
    }
}

}  // namespace forcefit
