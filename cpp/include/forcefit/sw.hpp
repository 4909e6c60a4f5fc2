// Stillinger-Weber potential, multi-species, in the parameterization of the OpenKIM driver
// SW__MD_335816936951_004 (energy scale folded into A and lambda, gamma in Å):
//
//   E   = Σ_i E_i,
//   E_i = 1/2 Σ_{j, r_ij < rc_ij} φ2_ij(r_ij) + Σ_{j<k, r_ij < rc_ij, r_ik < rc_ik} φ3_ijk,
//   φ2(r)  = A [B (σ/r)^p − (σ/r)^q] exp(σ / (r − rc)),
//   φ3_ijk = λ_ijk (cos θ_jik − cos θ0_ijk)^2 exp(γ_ij / (r_ij − rc_ij) + γ_ik / (r_ik − rc_ik)),
//   λ_ijk = sqrt(|λ_ij| |λ_ik|)  (the KIM driver's mixing rule),
//   cos θ0_ijk = (cos θ0_ij + cos θ0_ik) / 2  (KIM takes cos θ0_ij of whichever neighbor comes
//                first; the mean is order independent and identical whenever the two agree).
// Subscripts ij are species pairs. With LAMMPS' Si.sw: A = ε·A_lmp, λ = ε·λ_lmp, γ = γ_lmp·σ,
// rc = a·σ.
//
// Flat parameter vector, each block [n_pairs] in KIM's upper-triangle species-pair order:
//   A (eV), B, p, q, sigma (Å), lambda (eV), gamma (Å), costheta0, cutoff (Å)
// (the order in which the KIM driver publishes them).
#pragma once

#include "forcefit/potential.hpp"

namespace forcefit {

class StillingerWeber final : public KernelPotential<StillingerWeber> {
public:
    explicit StillingerWeber(int n_species);

    std::vector<ParameterBlock> parameter_blocks() const override;
    double influence_distance(const double* params) const override;
    void check_params(const double* params) const override;

    /// Offsets of the blocks in the flat parameter vector, in units of n_pairs.
    enum Block { kA = 0, kB, kP, kQ, kSigma, kLambda, kGamma, kCosTheta0, kCutoff, kNumBlocks };

private:
    friend class KernelPotential<StillingerWeber>;
    template <bool ParamDerivs>
    void compute_config_impl(const BatchView& batch, std::int64_t c, const double* params,
                             const Outputs& out, const ParamColumns& cols) const;
};

}  // namespace forcefit
