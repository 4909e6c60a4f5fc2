// Lennard-Jones kernel: one pass over the full neighbor list, half of each pair per atom.
#include "forcefit/lj.hpp"

#include <algorithm>
#include <cmath>

#include "forcefit/error.hpp"
#include "potential_dual.hpp"

namespace forcefit {

using detail::Dual;

LennardJones::LennardJones(int n_species, bool shifted) : KernelPotential(n_species), shifted_(shifted) {}

std::vector<ParameterBlock> LennardJones::parameter_blocks() const {
    const std::size_t n = static_cast<std::size_t>(num_species_pairs(num_species()));
    return {{"epsilon", n}, {"sigma", n}, {"cutoff", n}};
}

double LennardJones::influence_distance(const double* params) const {
    const int n = num_species_pairs(num_species());
    return *std::max_element(params + 2 * n, params + 3 * n);
}

void LennardJones::check_params(const double* params) const {
    Potential::check_params(params);
    const int n = num_species_pairs(num_species());
    for (int s = 0; s < n; ++s) {
        if (!(params[n + s] > 0.0)) throw InputError("LennardJones: sigma[" + std::to_string(s) + "] must be > 0");
        if (!(params[2 * n + s] > 0.0)) throw InputError("LennardJones: cutoff[" + std::to_string(s) + "] must be > 0");
    }
}

// Named (not anonymous) so the kernel templates may use these types without linkage warnings.
namespace lj_detail {

// φ(r) and dφ/dr for one pair; T is double or a dual over (epsilon, sigma, cutoff).
template <class T>
inline void lj_pair(const T& eps, const T& sig, const T& rc, double r, bool shifted, T& phi, T& dphi) {
    const T s2 = (sig * sig) * (1.0 / (r * r));
    const T s6 = s2 * s2 * s2;
    const T s12 = s6 * s6;
    phi = 4.0 * eps * (s12 - s6);
    dphi = eps * (-48.0 * s12 + 24.0 * s6) * (1.0 / r);
    if (shifted) {
        const T c2 = (sig * sig) / (rc * rc);
        const T c6 = c2 * c2 * c2;
        phi -= 4.0 * eps * (c6 * c6 - c6);
    }
}

}  // namespace lj_detail

using namespace lj_detail;

template <bool ParamDerivs>
void LennardJones::compute_config_impl(const BatchView& b, std::int64_t c, const double* params,
                                       const Outputs& out, const ParamColumns& cols) const {
    using T = std::conditional_t<ParamDerivs, Dual<3>, double>;
    const int ns = num_species();
    const int npair = num_species_pairs(ns);
    const std::size_t np = cols.n;  // columns of the derivative outputs
    const double* eps_p = params;
    const double* sig_p = params + npair;
    const double* rc_p = params + 2 * npair;

    double energy = 0.0;
    double virial[6] = {0, 0, 0, 0, 0, 0};
    double* denergy = ParamDerivs && out.denergy ? out.denergy_row(c, np) : nullptr;
    double* dvirial = ParamDerivs && out.dstress ? out.dstress_rows(c, np) : nullptr;

    for (std::int64_t i = b.atom_offset[c]; i < b.atom_offset[c + 1]; ++i) {
        const int ti = b.species[i];
        double atom_e = 0.0;
        for (std::int64_t p = b.first[i]; p < b.first[i + 1]; ++p) {
            const std::int64_t j = b.neigh[p];
            const int s = species_pair_index(ti, b.species[j], ns);
            const double* d = b.rij + 3 * p;
            const double r = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            if (r >= rc_p[s]) continue;
            T eps(eps_p[s]), sig(sig_p[s]), rc(rc_p[s]);
            if constexpr (ParamDerivs) {
                eps.d[0] = 1.0;
                sig.d[1] = 1.0;
                rc.d[2] = 1.0;
            }
            T phi, dphi;
            lj_pair(eps, sig, rc, r, shifted_, phi, dphi);
            const double half_phi = 0.5 * detail::value_of(phi);
            atom_e += half_phi;
            // dE/d(rij vector) of this directed pair
            const double g = 0.5 * detail::value_of(dphi) / r;
            const double dedr[3] = {g * d[0], g * d[1], g * d[2]};
            if (out.forces) {
                for (int x = 0; x < 3; ++x) {
                    out.forces[3 * i + x] += dedr[x];
                    out.forces[3 * j + x] -= dedr[x];
                }
            }
            if (out.stress) add_virial(virial, dedr, d);
            if constexpr (ParamDerivs) {
                const int column[3] = {cols.column[s], cols.column[npair + s], cols.column[2 * npair + s]};
                for (int k = 0; k < 3; ++k) {
                    if (column[k] < 0) continue;
                    const std::size_t t = static_cast<std::size_t>(column[k]);
                    if (denergy) denergy[t] += 0.5 * phi.d[k];
                    const double gk = 0.5 * dphi.d[k] / r;
                    if (gk == 0.0) continue;
                    const double dd[3] = {gk * d[0], gk * d[1], gk * d[2]};
                    if (out.dforces) {
                        for (int x = 0; x < 3; ++x) {
                            out.dforces_rows(i, np)[x * np + t] += dd[x];
                            out.dforces_rows(j, np)[x * np + t] -= dd[x];
                        }
                    }
                    if (dvirial) {
                        double w[6] = {0, 0, 0, 0, 0, 0};
                        add_virial(w, dd, d);
                        for (int v = 0; v < 6; ++v) dvirial[v * np + t] += w[v];
                    }
                }
            }
        }
        if (out.atom_energy) out.atom_energy[i] += atom_e;
        energy += atom_e;
    }
    if (out.energy) out.energy[c] += energy;
    if (out.stress) {
        for (int v = 0; v < 6; ++v) out.stress[6 * c + v] += virial[v];
    }
}

// Both variants are instantiated here, where the template body is visible.
template void LennardJones::compute_config_impl<false>(const BatchView&, std::int64_t, const double*, const Outputs&,
                                                    const ParamColumns&) const;
template void LennardJones::compute_config_impl<true>(const BatchView&, std::int64_t, const double*, const Outputs&,
                                                    const ParamColumns&) const;

}  // namespace forcefit
