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

namespace {

// Columns of the derivative outputs for out.selected (all parameters when nullptr).
ParamColumns param_columns(const Outputs& out, std::size_t n_params) {
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
    return cols;
}

// Adds one block of residuals scale * (pred - ref) (n values, derivative rows drow [n, nc]) to the
// loss and gradient of a configuration; values with scale 0 are skipped. Writes the residuals and
// Jacobian rows (scale * drow) to rrow [n] and jrow [n, nc] when given (0 for skipped values).
inline double contract(std::size_t n, const double* scale, const double* pred, const double* ref, const double* drow,
                       std::size_t nc, double* grad, double* rrow, double* jrow) {
    double loss = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
        const double s = scale[k];
        if (s == 0.0) {
            if (rrow) rrow[k] = 0.0;
            if (jrow) std::fill(jrow + k * nc, jrow + (k + 1) * nc, 0.0);
            continue;
        }
        const double r = s * (pred[k] - ref[k]);
        loss += 0.5 * r * r;
        const double rs = r * s;
        const double* d = drow + k * nc;
        for (std::size_t t = 0; t < nc; ++t) grad[t] += rs * d[t];
        if (rrow) rrow[k] = r;
        if (jrow) {
            for (std::size_t t = 0; t < nc; ++t) jrow[k * nc + t] = s * d[t];
        }
    }
    return loss;
}

}  // namespace

void Potential::compute(const BatchView& b, const double* params, const Outputs& out) const {
    run(b, params, out, nullptr, nullptr, nullptr);
}

double Potential::loss_gradient(const BatchView& b, const double* params, const Residuals& res, const Outputs& out,
                                double* gradient) const {
    if (out.any_param_derivative()) throw InputError("loss_gradient keeps the derivatives itself: no derivative buffers");
    if ((res.energy_scale && (!res.energy_ref || !out.energy)) || (res.forces_scale && (!res.forces_ref || !out.forces)) ||
        (res.stress_scale && (!res.stress_ref || !out.stress))) {
        throw InputError("loss_gradient: each fitted property needs its reference and its output buffer");
    }
    std::vector<double> config_loss, config_grad;
    run(b, params, out, &res, &config_loss, &config_grad);
    const std::size_t nc = b.n_configs > 0 ? config_grad.size() / static_cast<std::size_t>(b.n_configs) : 0;
    const std::size_t np = out.selected ? out.n_selected : num_params();
    double loss = 0.0;
    std::fill(gradient, gradient + np, 0.0);
    for (std::size_t c = 0; c < config_loss.size(); ++c) {
        loss += config_loss[c];
        for (std::size_t t = 0; t < nc; ++t) gradient[t] += config_grad[c * nc + t];
    }
    return loss;
}

void Potential::run(const BatchView& b, const double* params, const Outputs& out, const Residuals* res,
                    std::vector<double>* config_loss, std::vector<double>* config_grad) const {
    validate(b, params);
    const ParamColumns cols = param_columns(out, num_params());
    const std::size_t np = cols.n;
    const std::size_t C = static_cast<std::size_t>(b.n_configs);
    if (res) {
        config_loss->assign(C, 0.0);
        config_grad->assign(C * np, 0.0);
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();

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
            Outputs o = out;
            // With residuals: this configuration's derivatives in scratch, contracted below.
            thread_local std::vector<double> scratch_de, scratch_df, scratch_ds;
            if (res && np > 0) {
                if (res->energy_scale) {
                    scratch_de.resize(np);
                    o.denergy = scratch_de.data();
                }
                if (res->forces_scale) {
                    scratch_df.resize(3 * (a1 - a0) * np);
                    o.dforces = scratch_df.data();
                }
                if (res->stress_scale) {
                    scratch_ds.resize(6 * np);
                    o.dstress = scratch_ds.data();
                }
                o.deriv_config0 = c;
                o.deriv_atom0 = static_cast<std::int64_t>(a0);
            }
            if (o.energy) o.energy[cc] = 0.0;
            if (o.atom_energy) std::fill(o.atom_energy + a0, o.atom_energy + a1, 0.0);
            if (o.forces) std::fill(o.forces + 3 * a0, o.forces + 3 * a1, 0.0);
            if (o.stress) std::fill(o.stress + 6 * cc, o.stress + 6 * cc + 6, 0.0);
            if (o.denergy) std::fill(o.denergy_row(c, np), o.denergy_row(c, np) + np, 0.0);
            if (o.dforces) std::fill(o.dforces_rows(a0, np), o.dforces_rows(a0, np) + 3 * (a1 - a0) * np, 0.0);
            if (o.dstress) std::fill(o.dstress_rows(c, np), o.dstress_rows(c, np) + 6 * np, 0.0);
            compute_config(b, c, params, o, cols);

            // strain derivative -> stress (NaN without a volume)
            const double v = b.volume[c];
            const double scale = v > 0.0 ? 1.0 / v : nan;
            if (o.stress) {
                for (int k = 0; k < 6; ++k) o.stress[6 * cc + k] *= scale;
            }
            if (o.dstress) {
                double* row = o.dstress_rows(c, np);
                for (std::size_t k = 0; k < 6 * np; ++k) row[k] *= scale;
            }

            if (res) {
                double* grad = config_grad->data() + cc * np;
                double loss = 0.0;
                // first output row of this configuration's energy, forces and stress
                const std::size_t N = static_cast<std::size_t>(b.n_atoms);
                const std::size_t f0 = res->energy_scale ? C : 0;
                const std::size_t s0 = f0 + (res->forces_scale ? 3 * N : 0);
                auto rrow = [&](std::size_t row) { return res->residual_rows ? res->residual_rows + row : nullptr; };
                auto jrow = [&](std::size_t row) { return res->jacobian_rows ? res->jacobian_rows + row * np : nullptr; };
                if (res->energy_scale) {
                    loss += contract(1, res->energy_scale + cc, o.energy + cc, res->energy_ref + cc,
                                     np ? o.denergy_row(c, np) : nullptr, np, grad, rrow(cc), jrow(cc));
                }
                if (res->forces_scale) {
                    loss += contract(3 * (a1 - a0), res->forces_scale + 3 * a0, o.forces + 3 * a0,
                                     res->forces_ref + 3 * a0, np ? o.dforces_rows(a0, np) : nullptr, np, grad,
                                     rrow(f0 + 3 * a0), jrow(f0 + 3 * a0));
                }
                if (res->stress_scale) {
                    loss += contract(6, res->stress_scale + 6 * cc, o.stress + 6 * cc, res->stress_ref + 6 * cc,
                                     np ? o.dstress_rows(c, np) : nullptr, np, grad, rrow(s0 + 6 * cc),
                                     jrow(s0 + 6 * cc));
                }
                (*config_loss)[cc] = loss;
            }
        } catch (const std::exception& e) {
#pragma omp critical(forcefit_potential_failure)
            if (c < failed_config) {
                failed_config = c;
                failure = e.what();
            }
        }
    }
    if (!failure.empty()) throw InputError(failure);
}

}  // namespace forcefit
