// Stillinger-Weber kernel. Per atom i, in one pass:
//   1. per pair: r, unit vector, two-body term (value, dφ/dr and their parameter derivatives
//      via a 6-slot dual over A, B, p, q, sigma, cutoff) and the three-body radial factor
//      g = exp(γ/(r − rc)) with g' and their partials in γ and rc;
//   2. per triplet j<k: closed-form φ3, its gradient and the parameter derivatives of both,
//      chained through the per-pair partials;
//   3. the accumulated dE_i/dr_ij vectors (and their parameter derivatives) are scattered to
//      forces of i and j and to the strain derivative.
// Per-pair and per-atom scratch lives in thread-local buffers reused across calls.
#include "forcefit/sw.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "forcefit/error.hpp"
#include "potential_dual.hpp"

namespace forcefit {

using detail::Dual;

StillingerWeber::StillingerWeber(int n_species) : KernelPotential(n_species) {}

std::vector<ParameterBlock> StillingerWeber::parameter_blocks() const {
    const std::size_t n = static_cast<std::size_t>(num_species_pairs(num_species()));
    return {{"A", n},      {"B", n},     {"p", n},         {"q", n},     {"sigma", n},
            {"lambda", n}, {"gamma", n}, {"costheta0", n}, {"cutoff", n}};
}

double StillingerWeber::influence_distance(const double* params) const {
    const int n = num_species_pairs(num_species());
    return *std::max_element(params + kCutoff * n, params + (kCutoff + 1) * n);
}

void StillingerWeber::check_params(const double* params) const {
    Potential::check_params(params);
    const int n = num_species_pairs(num_species());
    for (int s = 0; s < n; ++s) {
        if (!(params[kSigma * n + s] > 0.0)) {
            throw InputError("StillingerWeber: sigma[" + std::to_string(s) + "] must be > 0");
        }
        if (!(params[kCutoff * n + s] > 0.0)) {
            throw InputError("StillingerWeber: cutoff[" + std::to_string(s) + "] must be > 0");
        }
    }
}

// Named (not anonymous) so the kernel templates may use these types without linkage warnings.
namespace sw_detail {

// Two-body term and its radial derivative. T is double or Dual<6> seeded in the order
// A, B, p, q, sigma, cutoff.
template <class T>
inline void sw_two_body(const T& A, const T& B, const T& p, const T& q, const T& sig, const T& rc, double r,
                        T& phi, T& dphi) {
    using std::exp;
    using std::log;
    using detail::exp;
    using detail::log;
    const T log_s = log(sig) - std::log(r);
    const T sp = exp(p * log_s);
    const T sq = exp(q * log_s);
    const T P = B * sp - sq;
    const T dP = (q * sq - p * B * sp) * (1.0 / r);
    const T dr = r - rc;
    const T E = exp(sig / dr);
    const T dE = -(sig / (dr * dr)) * E;
    phi = A * P * E;
    dphi = A * (dP * E + P * dE);
}

struct SwPair {
    std::int64_t j;
    int s;          // species-pair index
    bool inside;    // r < cutoff of the pair
    double r;
    double u[3];    // unit vector i -> j
    double g, gp;   // exp(γ/(r − rc)) and its r-derivative
    double g_gam, g_rc, gp_gam, gp_rc;  // partials of g and gp in γ and rc
};

struct SwScratch {
    std::vector<SwPair> pairs;
    std::vector<double> a;   // [n,3]   dE_i/dr_ij
    std::vector<double> da;  // [n,3,P] its parameter derivatives
};

}  // namespace sw_detail

using namespace sw_detail;

template <bool ParamDerivs>
void StillingerWeber::compute_config_impl(const BatchView& b, std::int64_t c, const double* params,
                                          const Outputs& out) const {
    using T = std::conditional_t<ParamDerivs, Dual<6>, double>;
    const int ns = num_species();
    const int npair = num_species_pairs(ns);
    const std::size_t P = num_params();
    auto par = [&](int block, int s) { return params[block * npair + s]; };
    auto gidx = [&](int block, int s) { return static_cast<std::size_t>(block * npair + s); };

    const bool need_da = ParamDerivs && (out.dforces || out.dstress);
    double* denergy = ParamDerivs && out.denergy ? out.denergy + c * P : nullptr;
    double* dvirial = ParamDerivs && out.dstress ? out.dstress + 6 * c * P : nullptr;
    double virial[6] = {0, 0, 0, 0, 0, 0};
    double energy = 0.0;

    thread_local SwScratch scratch;
    auto& pairs = scratch.pairs;
    auto& a = scratch.a;
    auto& da = scratch.da;

    for (std::int64_t i = b.atom_offset[c]; i < b.atom_offset[c + 1]; ++i) {
        const int ti = b.species[i];
        const std::int64_t p0 = b.first[i];
        const std::size_t n = static_cast<std::size_t>(b.first[i + 1] - p0);
        if (pairs.size() < n) pairs.resize(n);
        if (a.size() < 3 * n) a.resize(3 * n);
        std::fill(a.begin(), a.begin() + 3 * n, 0.0);
        if (need_da) {
            if (da.size() < 3 * n * P) da.resize(3 * n * P);
            std::fill(da.begin(), da.begin() + 3 * n * P, 0.0);
        }
        double atom_e = 0.0;

        // ---- pairs: two-body term and three-body radial factors
        for (std::size_t q = 0; q < n; ++q) {
            SwPair& pr = pairs[q];
            const double* d = b.rij + 3 * (p0 + q);
            pr.j = b.neigh[p0 + q];
            pr.s = species_pair_index(ti, b.species[pr.j], ns);
            pr.r = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            const double rc = par(kCutoff, pr.s);
            pr.inside = pr.r < rc;
            if (!pr.inside) continue;
            const double inv_r = 1.0 / pr.r;
            for (int x = 0; x < 3; ++x) pr.u[x] = d[x] * inv_r;

            T A(par(kA, pr.s)), B(par(kB, pr.s)), pp(par(kP, pr.s)), qq(par(kQ, pr.s)), sig(par(kSigma, pr.s)),
                rcut(rc);
            if constexpr (ParamDerivs) {
                A.d[0] = B.d[1] = pp.d[2] = qq.d[3] = sig.d[4] = rcut.d[5] = 1.0;
            }
            T phi, dphi;
            sw_two_body(A, B, pp, qq, sig, rcut, pr.r, phi, dphi);
            atom_e += 0.5 * detail::value_of(phi);
            const double h = 0.5 * detail::value_of(dphi);
            for (int x = 0; x < 3; ++x) a[3 * q + x] += h * pr.u[x];
            if constexpr (ParamDerivs) {
                const std::size_t t6[6] = {gidx(kA, pr.s),     gidx(kB, pr.s),     gidx(kP, pr.s),
                                           gidx(kQ, pr.s),     gidx(kSigma, pr.s), gidx(kCutoff, pr.s)};
                for (int k = 0; k < 6; ++k) {
                    if (denergy) denergy[t6[k]] += 0.5 * phi.d[k];
                    if (need_da) {
                        const double hk = 0.5 * dphi.d[k];
                        for (int x = 0; x < 3; ++x) da[(3 * q + x) * P + t6[k]] += hk * pr.u[x];
                    }
                }
            }

            const double gam = par(kGamma, pr.s);
            const double dr = pr.r - rc;
            const double inv_dr = 1.0 / dr;
            pr.g = std::exp(gam * inv_dr);
            pr.gp = -gam * inv_dr * inv_dr * pr.g;
            if constexpr (ParamDerivs) {
                pr.g_gam = pr.g * inv_dr;
                pr.g_rc = -pr.gp;
                pr.gp_gam = -pr.g * inv_dr * inv_dr * (1.0 + gam * inv_dr);
                pr.gp_rc = -gam * pr.g * inv_dr * inv_dr * inv_dr * (2.0 + gam * inv_dr);
            }
        }

        // ---- triplets j<k around i
        for (std::size_t qj = 0; qj < n; ++qj) {
            const SwPair& pj = pairs[qj];
            if (!pj.inside) continue;
            for (std::size_t qk = qj + 1; qk < n; ++qk) {
                const SwPair& pk = pairs[qk];
                if (!pk.inside) continue;
                const int sa = pj.s, sb = pk.s;
                const double lam_a = par(kLambda, sa), lam_b = par(kLambda, sb);
                double lam, dlam_a, dlam_b;
                if (sa == sb) {
                    lam = std::fabs(lam_a);
                    dlam_a = lam_a >= 0.0 ? 1.0 : -1.0;
                    dlam_b = 0.0;
                } else {
                    lam = std::sqrt(std::fabs(lam_a * lam_b));
                    dlam_a = lam_a != 0.0 ? 0.5 * lam / lam_a : 0.0;
                    dlam_b = lam_b != 0.0 ? 0.5 * lam / lam_b : 0.0;
                }
                const double c0 = 0.5 * (par(kCosTheta0, sa) + par(kCosTheta0, sb));
                const double cs = pj.u[0] * pk.u[0] + pj.u[1] * pk.u[1] + pj.u[2] * pk.u[2];
                const double D = cs - c0;
                const double Gj = pj.g, Gk = pk.g, Pj = pj.gp, Pk = pk.gp;
                const double irj = 1.0 / pj.r, irk = 1.0 / pk.r;
                const double GG = Gj * Gk;
                const double DG = D * GG;
                const double D2 = D * D;
                // energy and gradient without the λ factor:
                // dE/dr_ij = λ (αj u_j + βj u_k), dE/dr_ik = λ (αk u_k + βk u_j)
                const double e0 = D2 * GG;
                const double aj0 = -2.0 * cs * DG * irj + D2 * Pj * Gk;
                const double bj0 = 2.0 * DG * irj;
                const double ak0 = -2.0 * cs * DG * irk + D2 * Gj * Pk;
                const double bk0 = 2.0 * DG * irk;
                atom_e += lam * e0;
                for (int x = 0; x < 3; ++x) {
                    a[3 * qj + x] += lam * (aj0 * pj.u[x] + bj0 * pk.u[x]);
                    a[3 * qk + x] += lam * (ak0 * pk.u[x] + bk0 * pj.u[x]);
                }
                if constexpr (ParamDerivs) {
                    auto add = [&](std::size_t t, double dE, double daj, double dbj, double dak, double dbk) {
                        if (denergy) denergy[t] += dE;
                        if (need_da) {
                            for (int x = 0; x < 3; ++x) {
                                da[(3 * qj + x) * P + t] += daj * pj.u[x] + dbj * pk.u[x];
                                da[(3 * qk + x) * P + t] += dak * pk.u[x] + dbk * pj.u[x];
                            }
                        }
                    };
                    // λ
                    add(gidx(kLambda, sa), dlam_a * e0, dlam_a * aj0, dlam_a * bj0, dlam_a * ak0, dlam_a * bk0);
                    if (sa != sb) {
                        add(gidx(kLambda, sb), dlam_b * e0, dlam_b * aj0, dlam_b * bj0, dlam_b * ak0, dlam_b * bk0);
                    }
                    // cos θ0 (each pair's value enters with weight 1/2)
                    {
                        const double w = 0.5 * lam;
                        const double dE = w * (-2.0 * D * GG);
                        const double daj = w * (2.0 * cs * GG * irj - 2.0 * D * Pj * Gk);
                        const double dbj = w * (-2.0 * GG * irj);
                        const double dak = w * (2.0 * cs * GG * irk - 2.0 * D * Gj * Pk);
                        const double dbk = w * (-2.0 * GG * irk);
                        add(gidx(kCosTheta0, sa), dE, daj, dbj, dak, dbk);
                        add(gidx(kCosTheta0, sb), dE, daj, dbj, dak, dbk);
                    }
                    // γ and rc of pair (i,j): through Gj and Pj
                    {
                        const double eG = lam * D2 * Gk;
                        const double ajG = -2.0 * lam * cs * D * Gk * irj;
                        const double bjG = 2.0 * lam * D * Gk * irj;
                        const double akG = lam * (-2.0 * cs * D * Gk * irk + D2 * Pk);
                        const double bkG = 2.0 * lam * D * Gk * irk;
                        const double ajP = lam * D2 * Gk;
                        add(gidx(kGamma, sa), eG * pj.g_gam, ajG * pj.g_gam + ajP * pj.gp_gam, bjG * pj.g_gam,
                            akG * pj.g_gam, bkG * pj.g_gam);
                        add(gidx(kCutoff, sa), eG * pj.g_rc, ajG * pj.g_rc + ajP * pj.gp_rc, bjG * pj.g_rc,
                            akG * pj.g_rc, bkG * pj.g_rc);
                    }
                    // γ and rc of pair (i,k): through Gk and Pk
                    {
                        const double eG = lam * D2 * Gj;
                        const double ajG = lam * (-2.0 * cs * D * Gj * irj + D2 * Pj);
                        const double bjG = 2.0 * lam * D * Gj * irj;
                        const double akG = -2.0 * lam * cs * D * Gj * irk;
                        const double bkG = 2.0 * lam * D * Gj * irk;
                        const double akP = lam * D2 * Gj;
                        add(gidx(kGamma, sb), eG * pk.g_gam, ajG * pk.g_gam, bjG * pk.g_gam,
                            akG * pk.g_gam + akP * pk.gp_gam, bkG * pk.g_gam);
                        add(gidx(kCutoff, sb), eG * pk.g_rc, ajG * pk.g_rc, bjG * pk.g_rc,
                            akG * pk.g_rc + akP * pk.gp_rc, bkG * pk.g_rc);
                    }
                }
            }
        }

        // ---- scatter dE_i/dr_ij to forces of i and j and to the strain derivative
        for (std::size_t q = 0; q < n; ++q) {
            const SwPair& pr = pairs[q];
            if (!pr.inside) continue;
            const double* av = &a[3 * q];
            const double* d = b.rij + 3 * (p0 + q);
            if (out.forces) {
                for (int x = 0; x < 3; ++x) {
                    out.forces[3 * i + x] += av[x];
                    out.forces[3 * pr.j + x] -= av[x];
                }
            }
            if (out.stress) add_virial(virial, av, d);
            if (need_da) {
                if (out.dforces) {
                    double* fi = out.dforces + 3 * i * P;
                    double* fj = out.dforces + 3 * pr.j * P;
                    const double* dq = &da[3 * q * P];
                    for (std::size_t k = 0; k < 3 * P; ++k) {
                        fi[k] += dq[k];
                        fj[k] -= dq[k];
                    }
                }
                if (dvirial) {
                    const double* dx = &da[(3 * q + 0) * P];
                    const double* dy = &da[(3 * q + 1) * P];
                    const double* dz = &da[(3 * q + 2) * P];
                    for (std::size_t t = 0; t < P; ++t) {
                        dvirial[0 * P + t] += dx[t] * d[0];
                        dvirial[1 * P + t] += dy[t] * d[1];
                        dvirial[2 * P + t] += dz[t] * d[2];
                        dvirial[3 * P + t] += 0.5 * (dy[t] * d[2] + dz[t] * d[1]);
                        dvirial[4 * P + t] += 0.5 * (dx[t] * d[2] + dz[t] * d[0]);
                        dvirial[5 * P + t] += 0.5 * (dx[t] * d[1] + dy[t] * d[0]);
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
template void StillingerWeber::compute_config_impl<false>(const BatchView&, std::int64_t, const double*, const Outputs&) const;
template void StillingerWeber::compute_config_impl<true>(const BatchView&, std::int64_t, const double*, const Outputs&) const;

}  // namespace forcefit
