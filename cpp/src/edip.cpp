// EDIP kernel. The site energy E_i depends only on the vectors r_ij of atom i's neighbors, so
// per atom: coordination Z_i, two-body and three-body terms, dE_i/dZ_i, and the accumulated
// dE_i/dr_ij vectors, which are then scattered to forces of i and j and the strain derivative.
// Parameter derivatives: the whole site computation is templated on the scalar type and run
// with an 18-slot dual number (one slot per parameter) when they are requested, which also
// differentiates the forces; EDIP is not on a fitting hot path where this would matter.
#include "forcefit/edip.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "forcefit/error.hpp"
#include "potential_dual.hpp"

namespace forcefit {

using detail::Dual;

EDIP::EDIP() : KernelPotential(1) {}

std::vector<ParameterBlock> EDIP::parameter_blocks() const {
    static const char* names[kNum] = {"a",  "A",  "B",   "rh",  "sig", "lam", "gam", "b",  "c",
                                      "mu", "Qo", "eta", "bet", "alp", "u1",  "u2",  "u3", "u4"};
    std::vector<ParameterBlock> blocks;
    for (const char* n : names) blocks.push_back({n, 1});
    return blocks;
}

double EDIP::influence_distance(const double* params) const { return std::max(params[ka], params[kb]); }

void EDIP::check_params(const double* params) const {
    Potential::check_params(params);
    if (!(params[ka] > 0.0 && params[kb] > 0.0)) throw InputError("EDIP: cutoffs a and b must be > 0");
    if (!(params[kc] > 0.0 && params[kc] < params[kb])) throw InputError("EDIP: need 0 < c < b");
    if (!(params[kB] > 0.0)) throw InputError("EDIP: B must be > 0");
}

// Named (not anonymous) so the kernel templates may use these types without linkage warnings.
namespace edip_detail {

template <class T>
struct EdipPair {
    std::int64_t j;
    double r;
    double u[3];
    bool in_a, in_b;
    T fp;     // df/dr of the coordination function (0 below c)
    T g, gp;  // three-body radial factor exp(gam/(r−b)) and its r-derivative
};

}  // namespace edip_detail

using namespace edip_detail;

template <bool ParamDerivs>
void EDIP::compute_config_impl(const BatchView& bv, std::int64_t c, const double* params, const Outputs& out,
                               const ParamColumns& cols) const {
    using T = std::conditional_t<ParamDerivs, Dual<kNum>, double>;
    using std::exp;
    using std::log;
    const std::size_t NC = cols.n;  // columns of the derivative outputs

    T prm[kNum];
    for (int k = 0; k < kNum; ++k) {
        prm[k] = T(params[k]);
        if constexpr (ParamDerivs) prm[k].d[k] = 1.0;
    }
    const T &a = prm[ka], &A = prm[kA], &B = prm[kB], &rh = prm[krh], &sig = prm[ksig], &lam = prm[klam],
            &gam = prm[kgam], &b = prm[kb], &cc = prm[kc], &mu = prm[kmu], &Qo = prm[kQo], &eta = prm[keta],
            &bet = prm[kbet], &alp = prm[kalp], &u1 = prm[ku1], &u2 = prm[ku2], &u3 = prm[ku3], &u4 = prm[ku4];
    const double a_v = params[ka], b_v = params[kb], c_v = params[kc];

    thread_local std::vector<EdipPair<T>> pairs;
    thread_local std::vector<T> grad;  // [n,3] dE_i/dr_ij

    T energy(0.0);
    T virial[6];
    for (auto& v : virial) v = T(0.0);

    for (std::int64_t i = bv.atom_offset[c]; i < bv.atom_offset[c + 1]; ++i) {
        const std::int64_t p0 = bv.first[i];
        const std::size_t n = static_cast<std::size_t>(bv.first[i + 1] - p0);
        if (pairs.size() < n) pairs.resize(n);
        if (grad.size() < 3 * n) grad.resize(3 * n);
        for (std::size_t k = 0; k < 3 * n; ++k) grad[k] = T(0.0);

        // ---- coordination
        T Z(0.0);
        for (std::size_t q = 0; q < n; ++q) {
            EdipPair<T>& pr = pairs[q];
            const double* d = bv.rij + 3 * (p0 + q);
            pr.j = bv.neigh[p0 + q];
            pr.r = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            pr.in_a = pr.r < a_v;
            pr.in_b = pr.r < b_v;
            for (int x = 0; x < 3; ++x) pr.u[x] = d[x] / pr.r;
            pr.fp = T(0.0);
            if (!pr.in_b) continue;
            if (pr.r < c_v) {
                Z += T(1.0);
            } else {
                const T width = b - cc;
                const T x = (pr.r - cc) / width;
                const T x3inv = 1.0 / (x * x * x);
                const T w = 1.0 - x3inv;
                const T f = exp(alp / w);
                const T dwdr = 3.0 * x3inv / (x * width);
                pr.fp = -(f * alp / (w * w)) * dwdr;
                Z += f;
            }
        }

        // ---- two-body terms and three-body radial factors
        T Ei(0.0), dEdZ(0.0);
        const T pZ = exp(-(bet * Z * Z));
        for (std::size_t q = 0; q < n; ++q) {
            EdipPair<T>& pr = pairs[q];
            if (pr.in_a) {
                const T dra = pr.r - a;
                const T ea = exp(sig / dra);
                const T Br = exp(rh * (log(B) - std::log(pr.r)));
                const T rep = Br - pZ;
                Ei += A * rep * ea;
                const T dV2 = A * ea * (-(rh * Br) * (1.0 / pr.r) - rep * sig / (dra * dra));
                for (int x = 0; x < 3; ++x) grad[3 * q + x] += dV2 * pr.u[x];
                dEdZ += 2.0 * A * bet * Z * pZ * ea;
            }
            if (pr.in_b) {
                const T drb = pr.r - b;
                pr.g = exp(gam / drb);
                pr.gp = -(gam / (drb * drb)) * pr.g;
            }
        }

        // ---- three-body terms
        const T Q = Qo * exp(-(mu * Z));
        const T QZ = -(mu * Q);
        const T e1 = exp(-(u4 * Z));
        const T tau = u1 + u2 * (u3 * e1 - e1 * e1);
        const T tauZ = u2 * u4 * (2.0 * e1 * e1 - u3 * e1);
        for (std::size_t qj = 0; qj < n; ++qj) {
            const EdipPair<T>& pj = pairs[qj];
            if (!pj.in_b) continue;
            for (std::size_t qk = qj + 1; qk < n; ++qk) {
                const EdipPair<T>& pk = pairs[qk];
                if (!pk.in_b) continue;
                const double l = pj.u[0] * pk.u[0] + pj.u[1] * pk.u[1] + pj.u[2] * pk.u[2];
                const T w = l + tau;
                const T ww = w * w;
                const T ex = exp(-(Q * ww));
                const T h = lam * ((1.0 - ex) + eta * Q * ww);
                const T hw = 2.0 * lam * Q * w * (ex + eta);
                const T hQ = lam * ww * (ex + eta);
                const T GG = pj.g * pk.g;
                Ei += GG * h;
                dEdZ += GG * (hQ * QZ + hw * tauZ);
                const T cj = pj.gp * pk.g * h;  // radial parts
                const T ck = pj.g * pk.gp * h;
                const T ang = GG * hw;          // times dl/dr_ij = (u_k − l u_j)/r_ij
                const T angj = ang * (1.0 / pj.r), angk = ang * (1.0 / pk.r);
                for (int x = 0; x < 3; ++x) {
                    grad[3 * qj + x] += cj * pj.u[x] + angj * (pk.u[x] - l * pj.u[x]);
                    grad[3 * qk + x] += ck * pk.u[x] + angk * (pj.u[x] - l * pk.u[x]);
                }
            }
        }

        // ---- coordination chain rule, then scatter
        for (std::size_t q = 0; q < n; ++q) {
            const EdipPair<T>& pr = pairs[q];
            if (!pr.in_a && !pr.in_b) continue;
            if (pr.in_b && pr.r >= c_v) {
                const T s = dEdZ * pr.fp;
                for (int x = 0; x < 3; ++x) grad[3 * q + x] += s * pr.u[x];
            }
            const T* gq = &grad[3 * q];
            const double* d = bv.rij + 3 * (p0 + q);
            if (out.forces) {
                for (int x = 0; x < 3; ++x) {
                    const double gx = detail::value_of(gq[x]);
                    out.forces[3 * i + x] += gx;
                    out.forces[3 * pr.j + x] -= gx;
                }
            }
            if (out.stress || out.dstress) {
                virial[0] += gq[0] * d[0];
                virial[1] += gq[1] * d[1];
                virial[2] += gq[2] * d[2];
                virial[3] += 0.5 * (gq[1] * d[2] + gq[2] * d[1]);
                virial[4] += 0.5 * (gq[0] * d[2] + gq[2] * d[0]);
                virial[5] += 0.5 * (gq[0] * d[1] + gq[1] * d[0]);
            }
            if constexpr (ParamDerivs) {
                if (out.dforces) {
                    for (int x = 0; x < 3; ++x) {
                        double* fi = out.dforces_rows(i, NC) + x * NC;
                        double* fj = out.dforces_rows(pr.j, NC) + x * NC;
                        for (int t = 0; t < kNum; ++t) {
                            const int col = cols.column[t];
                            if (col < 0) continue;
                            fi[col] += gq[x].d[t];
                            fj[col] -= gq[x].d[t];
                        }
                    }
                }
            }
        }
        if (out.atom_energy) out.atom_energy[i] += detail::value_of(Ei);
        energy += Ei;
    }

    if (out.energy) out.energy[c] += detail::value_of(energy);
    if (out.stress) {
        for (int v = 0; v < 6; ++v) out.stress[6 * c + v] += detail::value_of(virial[v]);
    }
    if constexpr (ParamDerivs) {
        for (int t = 0; t < kNum; ++t) {
            const int col = cols.column[t];
            if (col < 0) continue;
            if (out.denergy) out.denergy_row(c, NC)[col] += energy.d[t];
            if (out.dstress) {
                for (int v = 0; v < 6; ++v) out.dstress_rows(c, NC)[v * NC + col] += virial[v].d[t];
            }
        }
    }
}

// Both variants are instantiated here, where the template body is visible.
template void EDIP::compute_config_impl<false>(const BatchView&, std::int64_t, const double*, const Outputs&,
                                                    const ParamColumns&) const;
template void EDIP::compute_config_impl<true>(const BatchView&, std::int64_t, const double*, const Outputs&,
                                                    const ParamColumns&) const;

}  // namespace forcefit
