// Environment-Dependent Interatomic Potential (EDIP) for one species, Justo, Bazant, Kaxiras,
// Bulatov, Yip, PRB 58, 2539 (1998), with the parameter names of the OpenKIM driver
// EDIP__MD_506186535567_002:
//
//   E_i = Σ_{j, r_ij < a} V2(r_ij, Z_i) + Σ_{j<k, r_ij < b, r_ik < b} g(r_ij) g(r_ik) h(l_ijk, Z_i)
//   Z_i = Σ_{m, r_im < b} f(r_im),  f = 1 (r < c), exp(alp / (1 − x^−3)) with x = (r−c)/(b−c)
//   V2(r, Z) = A [(B/r)^rh − exp(−bet Z²)] exp(sig / (r − a))
//   g(r) = exp(gam / (r − b)),  l_ijk = cos θ_jik
//   h(l, Z) = lam [(1 − exp(−Q(Z) (l + τ(Z))²)) + eta Q(Z) (l + τ(Z))²]
//   Q(Z) = Qo exp(−mu Z),  τ(Z) = u1 + u2 (u3 exp(−u4 Z) − exp(−2 u4 Z))
// (every ordered pair i→j contributes V2 with the coordination of i, as in the paper and in
// LAMMPS `pair_style edip`). The paper and LAMMPS have one cutoff a; the KIM driver splits it
// into a (two-body) and b (three-body and coordination), and so does this kernel.
//
// Flat parameter vector (18 scalars, the KIM driver's order):
//   a (Å), A (eV), B (Å), rh, sig (Å), lam (eV), gam (Å), b (Å), c (Å), mu, Qo, eta, bet, alp,
//   u1, u2, u3, u4.
#pragma once

#include "forcefit/potential.hpp"

namespace forcefit {

class EDIP final : public KernelPotential<EDIP> {
public:
    EDIP();

    std::vector<ParameterBlock> parameter_blocks() const override;
    double influence_distance(const double* params) const override;
    void check_params(const double* params) const override;

    enum Index { ka = 0, kA, kB, krh, ksig, klam, kgam, kb, kc, kmu, kQo, keta, kbet, kalp, ku1, ku2, ku3, ku4, kNum };

private:
    friend class KernelPotential<EDIP>;
    template <bool ParamDerivs>
    void compute_config_impl(const BatchView& batch, std::int64_t c, const double* params,
                             const Outputs& out, const ParamColumns& cols) const;
};

}  // namespace forcefit
