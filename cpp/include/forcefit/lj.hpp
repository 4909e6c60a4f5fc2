// Lennard-Jones 6-12 pair potential with per-species-pair epsilon, sigma and cutoff.
//
//   E = 1/2 Σ_i Σ_{j in N(i), r_ij < rc_ab} φ_ab(r_ij),
//   φ_ab(r) = 4 ε_ab [(σ_ab/r)^12 − (σ_ab/r)^6] − shift_ab,
//   shift_ab = 4 ε_ab [(σ_ab/rc_ab)^12 − (σ_ab/rc_ab)^6] when shifted, else 0
// (unshifted = LAMMPS `pair_style lj/cut` without `pair_modify shift yes`; shifted = KIM
// LennardJones612 with shift flag 1). Each atom gets half of each pair energy.
//
// Flat parameter vector (KIM/KLIFF upper-triangle species-pair order, n_pairs = n(n+1)/2):
//   epsilon[n_pairs] (eV), sigma[n_pairs] (Å), cutoff[n_pairs] (Å).
// The derivative with respect to the cutoff is the smooth one: zero when unshifted (the energy
// only jumps when a pair crosses the cutoff), −Σ dshift/drc when shifted.
#pragma once

#include "forcefit/potential.hpp"

namespace forcefit {

class LennardJones final : public KernelPotential<LennardJones> {
public:
    LennardJones(int n_species, bool shifted);

    bool shifted() const { return shifted_; }
    std::vector<ParameterBlock> parameter_blocks() const override;
    double influence_distance(const double* params) const override;
    void check_params(const double* params) const override;

private:
    friend class KernelPotential<LennardJones>;
    template <bool ParamDerivs>
    void compute_config_impl(const BatchView& batch, std::int64_t c, const double* params,
                             const Outputs& out, const ParamColumns& cols) const;

    bool shifted_;
};

}  // namespace forcefit
