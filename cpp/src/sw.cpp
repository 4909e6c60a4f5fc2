// Stillinger-Weber kernel. Per atom i, in one pass:
//   1. per pair: r, unit vector, the two-body term once per unordered pair (value, dφ/dr and
//      the closed-form parameter derivatives that are asked for) and the three-body radial
//      factor g = exp(γ w), w = 1/(r − rc), with g';
//   2. triplets j<k: φ3 and its gradient. Energy, forces and the one-species λ and γ derivatives
//      need only a few sums per pair over its partners (TripletSums; the γ-weighted sums ride in
//      the second lane of the same vector registers). Parameter derivatives: γ and rc act only
//      through g, so theirs are the term itself scaled by per-pair factors (plus a radial term
//      from g'); λ scales the whole term. With several species for λ or γ, and for cos θ0 and
//      rc, each triplet adds its own tangents;
//   3. the accumulated dE_i/dr_ij vectors (and their parameter derivatives) are scattered to
//      forces of i and j and to the strain derivative.
// Only the parameter columns selected by the caller are computed. Per-pair and per-atom scratch
// lives in thread-local buffers reused across calls.
#include "forcefit/sw.hpp"

#include <algorithm>
#include <cmath>

#include "forcefit/error.hpp"

namespace forcefit {


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

// x^p without pow() for the small integer exponents SW parameterizations use.
inline double power(double x, double p) {
    const int n = static_cast<int>(p);
    if (static_cast<double>(n) != p || n < 0 || n > 16) return std::pow(x, p);
    double result = 1.0, base = x;
    for (int k = n; k > 0; k >>= 1) {
        if (k & 1) result *= base;
        base *= base;
    }
    return result;
}

// Each unordered pair appears twice in a full list, as (i, j, r) and (j, i, −r); the owner
// computes the symmetric two-body term once. Self-image pairs (i == i) are told apart by the
// sign of the first nonzero component of r.
inline bool owns_pair(std::int64_t i, std::int64_t j, const double* r) {
    if (i != j) return i < j;
    if (r[0] != 0.0) return r[0] > 0.0;
    if (r[1] != 0.0) return r[1] > 0.0;
    return r[2] > 0.0;
}

// Two-body term φ2(r), dφ2/dr, and (when `derivs`) their partials with respect to
// A, B, p, q, sigma, cutoff (in that order). log(σ/r) is only needed for p and q.
struct TwoBody {
    double phi, dphi;
    double phi_t[6], dphi_t[6];
};

inline void sw_two_body(double A, double B, double p, double q, double sig, double rc, double r, bool derivs,
                        bool need_log, bool need_sig, bool need_rc, TwoBody& o) {
    const double inv_r = 1.0 / r;
    const double s = sig * inv_r;
    const double sp = power(s, p);
    const double sq = power(s, q);
    const double P = B * sp - sq;
    const double dP = (q * sq - p * B * sp) * inv_r;
    const double dr = r - rc;
    const double inv_dr = 1.0 / dr;
    const double E = std::exp(sig * inv_dr);
    const double dE = -sig * inv_dr * inv_dr * E;
    o.phi = A * P * E;
    o.dphi = A * (dP * E + P * dE);
    if (!derivs) return;
    // A
    o.phi_t[0] = P * E;
    o.dphi_t[0] = dP * E + P * dE;
    // B
    o.phi_t[1] = A * sp * E;
    o.dphi_t[1] = A * sp * (-p * inv_r * E + dE);
    // p, q (through log s)
    if (need_log) {
        const double L = std::log(s);
        const double P_p = B * sp * L, dP_p = -B * sp * (1.0 + p * L) * inv_r;
        const double P_q = -sq * L, dP_q = sq * (1.0 + q * L) * inv_r;
        o.phi_t[2] = A * P_p * E;
        o.dphi_t[2] = A * (dP_p * E + P_p * dE);
        o.phi_t[3] = A * P_q * E;
        o.dphi_t[3] = A * (dP_q * E + P_q * dE);
    } else {
        o.phi_t[2] = o.dphi_t[2] = o.phi_t[3] = o.dphi_t[3] = 0.0;
    }
    o.phi_t[4] = o.dphi_t[4] = o.phi_t[5] = o.dphi_t[5] = 0.0;
    if (need_sig) {
    // sigma: through s and through E
    const double inv_sig = 1.0 / sig;
    const double P_s = (p * B * sp - q * sq) * inv_sig;
    const double dP_s = (q * q * sq - p * p * B * sp) * inv_r * inv_sig;
    const double E_s = E * inv_dr;
    const double dE_s = -E * inv_dr * inv_dr * (1.0 + sig * inv_dr);
    o.phi_t[4] = A * (P_s * E + P * E_s);
    o.dphi_t[4] = A * (dP_s * E + dP * E_s + P_s * dE + P * dE_s);
    }
    if (!need_rc) return;
    // cutoff
    const double E_c = -dE;
    const double dE_c = -sig * E * inv_dr * inv_dr * inv_dr * (2.0 + sig * inv_dr);
    o.phi_t[5] = A * P * E_c;
    o.dphi_t[5] = A * (dP * E_c + P * dE_c);
}

struct SwPair {
    std::int64_t j;
    int s;          // species-pair index
    bool inside;    // r < cutoff of the pair
    double r, inv_r;
    double u[3];    // unit vector i -> j
    double g, gp;   // exp(γ/(r − rc)) and its r-derivative
    double sqrt_lam, half_c0;  // λ_ijk = sqrt|λ_ij| sqrt|λ_ik|; cos θ0 = (c0_ij + c0_ik)/2
    double inv_2lam;           // dλ_ijk/dλ_ij = λ_ijk / (2 λ_ij)
    double gam, inv_dr;        // γ and w = 1/(r − rc), for the γ and rc derivatives
    int col_lam, col_c0, col_gam, col_rc;  // derivative-output columns of this pair's parameters
};

// Derivative of one triplet's (E3, αj, βj, αk, βk) with respect to one quantity.
struct Tangent {
    double e, aj, bj, ak, bk;
    Tangent operator*(double f) const { return {e * f, aj * f, bj * f, ak * f, bk * f}; }
    Tangent operator+(const Tangent& o) const { return {e + o.e, aj + o.aj, bj + o.bj, ak + o.ak, bk + o.bk}; }
};

// Per species pair, computed once per configuration.
struct PairConstants {
    double sqrt_lam, half_c0, inv_2lam;
    int col_lam, col_c0, col_gam, col_rc;
};

// Where a triplet's parameter derivatives go: the energy row and the dE/dr derivative rows of
// its two pairs (j and k) in the per-atom scratch. A plain struct (not a capturing lambda) keeps
// the triplet loop's locals in registers.
struct TripletSink {
    double* denergy;
    double* da;  // nullptr: energy derivatives only
    std::size_t NC, row_j, row_k;
    const double* uj;
    const double* uk;

    void add(int col, const Tangent& v) const {
        if (denergy) denergy[col] += v.e;
        if (da) {
            double* dj = da + row_j + col;
            double* dk = da + row_k + col;
            for (int x = 0; x < 3; ++x) {
                dj[x * NC] += v.aj * uj[x] + v.bj * uk[x];
                dk[x * NC] += v.ak * uk[x] + v.bk * uj[x];
            }
        }
    }
    // Parameters of pair (i,j) and of pair (i,k); the same column when both pairs have the same
    // species, then merged before touching memory.
    void add2(int col_j, const Tangent& tj, int col_k, const Tangent& tk) const {
        if (col_j == col_k) {
            if (col_j >= 0) add(col_j, tj + tk);
        } else {
            if (col_j >= 0) add(col_j, tj);
            if (col_k >= 0) add(col_k, tk);
        }
    }
};

// Two doubles that the compiler keeps in one vector register (SSE2 and up): each sum below is
// accumulated together with its γ-weighted twin, at the cost of one.
typedef double Twin __attribute__((vector_size(16)));

// Per-atom three-body sums over the pairs inside the cutoff, indexed by position m in the
// compacted list of those pairs. With G = sqrt|λ| g and P = sqrt|λ| g' per pair (λ_ijk =
// sqrt|λ_ij| sqrt|λ_ik| folded in), a triplet (j,k) is E3 = D² G_j G_k, D = cos θ_jik − cos θ0,
// and with t = 2 D G_j G_k its gradient is
//     dE3/dr_ij = (D² P_j G_k − t cos θ irj) u_j + t irj u_k.
// Summed over the partners k of j (both orders) this needs only
//     Q_j = Σ_k D² G_k,  M_j = Σ_k (−t cos θ),  T_j = Σ_k t u_k   (vector),
// giving dE_i/dr_ij = (P_j Q_j + irj M_j) u_j + irj T_j and E3_i = 1/2 Σ_j G_j Q_j.
// The one-species γ derivative needs the same sums with the partner's w = 1/(r − rc) as weight
// (Qw_j = Σ_k D² w_k G_k, Mw_j = Σ_k w_k (−t cos θ), Tw_j = Σ_k t w_k u_k): lane 1 of each Twin,
// lane 0 holding the plain sum (w = 0 when γ is not differentiated).
struct TripletSums {
    std::vector<std::size_t> pair;   // [m] pair index q of each inside pair
    std::vector<double> ir, P, hc0, w;
    std::vector<Twin> G, one, ux, uy, uz;  // (G, w G), (1, w), (u, w u) per inside pair
    std::vector<Twin> Q, M, Tx, Ty, Tz;    // (sum, γ-weighted sum)

    void resize(std::size_t n) {
        if (pair.size() >= n) return;
        pair.resize(n);
        for (auto* v : {&ir, &P, &hc0, &w}) v->resize(n);
        for (auto* v : {&G, &one, &ux, &uy, &uz, &Q, &M, &Tx, &Ty, &Tz}) v->resize(n);
    }

    // Stores inside pair m: unit vector u, 1/r, G, P, cos θ0/2 and w (0 = no γ sums).
    void set(std::size_t m, std::size_t q, const double* u, double inv_r, double G_, double P_, double half_c0,
             double w_) {
        pair[m] = q;
        ir[m] = inv_r;
        P[m] = P_;
        hc0[m] = half_c0;
        w[m] = w_;
        G[m] = Twin{G_, w_ * G_};
        one[m] = Twin{1.0, w_};
        ux[m] = Twin{u[0], w_ * u[0]};
        uy[m] = Twin{u[1], w_ * u[1]};
        uz[m] = Twin{u[2], w_ * u[2]};
    }

    // Accumulates the sums over every triplet j<k of the first m inside pairs.
    void accumulate(std::size_t m) {
        const Twin zero{0.0, 0.0};
        std::fill(Q.begin(), Q.begin() + m, zero);
        std::fill(M.begin(), M.begin() + m, zero);
        std::fill(Tx.begin(), Tx.begin() + m, zero);
        std::fill(Ty.begin(), Ty.begin() + m, zero);
        std::fill(Tz.begin(), Tz.begin() + m, zero);
        const double* __restrict h = hc0.data();
        const Twin* __restrict g = G.data();
        const Twin* __restrict o = one.data();
        const Twin* __restrict vx = ux.data();
        const Twin* __restrict vy = uy.data();
        const Twin* __restrict vz = uz.data();
        Twin* __restrict q = Q.data();
        Twin* __restrict mm = M.data();
        Twin* __restrict tx = Tx.data();
        Twin* __restrict ty = Ty.data();
        Twin* __restrict tz = Tz.data();
        for (std::size_t j = 0; j < m; ++j) {
            const Twin gj = g[j], oj = o[j], xj = vx[j], yj = vy[j], zj = vz[j];
            const double two_gj = 2.0 * gj[0], hj = h[j];
            Twin qj = zero, mj = zero, txj = zero, tyj = zero, tzj = zero;
            for (std::size_t k = j + 1; k < m; ++k) {
                const double cs = xj[0] * vx[k][0] + yj[0] * vy[k][0] + zj[0] * vz[k][0];
                const double D = cs - (hj + h[k]);
                const double D2 = D * D;
                const double t = two_gj * D * g[k][0];
                const double mc = -t * cs;
                qj += D2 * g[k];
                q[k] += D2 * gj;
                mj += mc * o[k];
                mm[k] += mc * oj;
                txj += t * vx[k];
                tyj += t * vy[k];
                tzj += t * vz[k];
                tx[k] += t * xj;
                ty[k] += t * yj;
                tz[k] += t * zj;
            }
            q[j] += qj;
            mm[j] += mj;
            tx[j] += txj;
            ty[j] += tyj;
            tz[j] += tzj;
        }
    }
};

struct SwScratch {
    TripletSums sums;
    std::vector<PairConstants> consts;
    std::vector<SwPair> pairs;
    std::vector<double> a;   // [n,3]    dE_i/dr_ij
    std::vector<double> a3;  // [n,3]    its three-body part
    std::vector<double> da;  // [n,3,NC] its parameter derivatives (selected columns)
    std::vector<double> gam_v;  // [n,3] one species: Σ over partners p of w_p × (triplet's dE/dr_iq)
    std::vector<double> gam_s;  // [n]   one species: Σ over partners of λ D² g g
};

}  // namespace sw_detail

using namespace sw_detail;

template <bool ParamDerivs>
void StillingerWeber::compute_config_impl(const BatchView& b, std::int64_t c, const double* params,
                                          const Outputs& out, const ParamColumns& cols) const {
    const int ns = num_species();
    const int npair = num_species_pairs(ns);
    const std::size_t NC = cols.n;  // columns of the derivative outputs
    auto par = [&](int block, int s) { return params[block * npair + s]; };
    auto column = [&](int block, int s) { return cols.column[block * npair + s]; };

    const bool need_da = ParamDerivs && (out.dforces || out.dstress);
    double* denergy = ParamDerivs && out.denergy ? out.denergy_row(c, NC) : nullptr;
    double* dvirial = ParamDerivs && out.dstress ? out.dstress_rows(c, NC) : nullptr;
    // which parameter blocks are differentiated at all
    const bool want_pq = ParamDerivs && (cols.any(kP * npair, 2 * npair));
    const bool want_lam = ParamDerivs && cols.any(kLambda * npair, npair);
    const bool want_c0 = ParamDerivs && cols.any(kCosTheta0 * npair, npair);
    const bool want_gam = ParamDerivs && cols.any(kGamma * npair, npair);
    const bool want_sig = ParamDerivs && cols.any(kSigma * npair, npair);
    // With one species pair type, λ and γ derivatives of the three-body terms are sums of the
    // terms themselves times per-pair factors: accumulate per pair, finish after the triplets.
    const bool one_type = npair == 1;
    const bool fast_lam = want_lam && one_type && params[kLambda] != 0.0;
    const bool fast_gam = want_gam && one_type;
    // parameters whose triplet derivatives need per-triplet tangents
    const bool want_rc = ParamDerivs && cols.any(kCutoff * npair, npair);
    const bool slow_tangents = want_c0 || want_rc || (want_lam && !fast_lam) || (want_gam && !fast_gam);
    // the three-body part of dE_i/dr_ij on its own: for the λ and γ derivatives
    const bool keep_a3 = ParamDerivs && (slow_tangents || fast_lam || fast_gam);

    double virial[6] = {0, 0, 0, 0, 0, 0};
    double energy = 0.0;

    thread_local SwScratch scratch;
    auto& pairs = scratch.pairs;
    auto& a = scratch.a;
    auto& a3 = scratch.a3;
    auto& da = scratch.da;
    auto& gam_v = scratch.gam_v;
    auto& gam_s = scratch.gam_s;
    auto& consts = scratch.consts;
    consts.resize(npair);
    for (int sp = 0; sp < npair; ++sp) {
        const double lam = par(kLambda, sp);
        consts[sp] = {std::sqrt(std::fabs(lam)), 0.5 * par(kCosTheta0, sp), lam != 0.0 ? 0.5 / lam : 0.0,
                      column(kLambda, sp), column(kCosTheta0, sp), column(kGamma, sp), column(kCutoff, sp)};
    }

    for (std::int64_t i = b.atom_offset[c]; i < b.atom_offset[c + 1]; ++i) {
        const int ti = b.species[i];
        const std::int64_t p0 = b.first[i];
        const std::size_t n = static_cast<std::size_t>(b.first[i + 1] - p0);
        if (pairs.size() < n) pairs.resize(n);
        if (a.size() < 3 * n) {
            a.resize(3 * n);
            a3.resize(3 * n);
            gam_v.resize(3 * n);
            gam_s.resize(n);
        }
        std::fill(a.begin(), a.begin() + 3 * n, 0.0);
        if (keep_a3) std::fill(a3.begin(), a3.begin() + 3 * n, 0.0);
        if (fast_gam) {
            std::fill(gam_v.begin(), gam_v.begin() + 3 * n, 0.0);
            std::fill(gam_s.begin(), gam_s.begin() + n, 0.0);
        }
        double e3_atom = 0.0, e3_gam = 0.0;  // three-body energy; Σ (w_j + w_k) E3
        if (need_da) {
            if (da.size() < 3 * n * NC) da.resize(3 * n * NC);
            std::fill(da.begin(), da.begin() + 3 * n * NC, 0.0);
        }
        double atom_e = 0.0;
        auto& sums = scratch.sums;
        sums.resize(n);
        std::size_t n_inside = 0;

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
            pr.inv_r = 1.0 / pr.r;
            for (int x = 0; x < 3; ++x) pr.u[x] = d[x] * pr.inv_r;

            // Two-body term: once per unordered pair, by the pair's owner.
            if (owns_pair(i, pr.j, d)) {
                TwoBody tb;
                sw_two_body(par(kA, pr.s), par(kB, pr.s), par(kP, pr.s), par(kQ, pr.s), par(kSigma, pr.s), rc,
                            pr.r, ParamDerivs, want_pq, want_sig, want_rc, tb);
                const double half = 0.5 * tb.phi;
                atom_e += half;
                if (pr.j == i) {
                    atom_e += half;
                } else {
                    if (out.atom_energy) out.atom_energy[pr.j] += half;
                    energy += half;  // the partner's half; atom_e joins `energy` below
                }
                for (int x = 0; x < 3; ++x) a[3 * q + x] += tb.dphi * pr.u[x];
                if constexpr (ParamDerivs) {
                    const int blocks[6] = {kA, kB, kP, kQ, kSigma, kCutoff};
                    for (int k = 0; k < 6; ++k) {
                        const int col = column(blocks[k], pr.s);
                        if (col < 0) continue;
                        if (denergy) denergy[col] += tb.phi_t[k];
                        if (need_da) {
                            for (int x = 0; x < 3; ++x) da[(3 * q + x) * NC + col] += tb.dphi_t[k] * pr.u[x];
                        }
                    }
                }
            }

            const double gam = par(kGamma, pr.s);
            const PairConstants& pc = consts[pr.s];
            const double inv_dr = 1.0 / (pr.r - rc);
            pr.g = std::exp(gam * inv_dr);
            pr.gp = -gam * inv_dr * inv_dr * pr.g;
            pr.sqrt_lam = pc.sqrt_lam;
            pr.half_c0 = pc.half_c0;
            sums.set(n_inside++, q, pr.u, pr.inv_r, pc.sqrt_lam * pr.g, pc.sqrt_lam * pr.gp, pc.half_c0,
                     ParamDerivs && fast_gam ? inv_dr : 0.0);
            if constexpr (ParamDerivs) {
                pr.inv_2lam = pc.inv_2lam;
                pr.gam = gam;
                pr.inv_dr = inv_dr;
                pr.col_lam = pc.col_lam;
                pr.col_c0 = pc.col_c0;
                pr.col_gam = pc.col_gam;
                pr.col_rc = pc.col_rc;
            }
        }

        // ---- triplets j<k around i. Term by term only when parameter tangents are needed per
        // triplet (λ or γ with several species, cos θ0, cutoff; the one-species γ sums ride
        // along there); otherwise through the per-pair sums of TripletSums below.
        auto triplet_tangents = [&]() {
            for (std::size_t qj = 0; qj < n; ++qj) {
                const SwPair& pj = pairs[qj];
                if (!pj.inside) continue;
                double acc_j[3] = {0.0, 0.0, 0.0};
                double gam_vj[3] = {0.0, 0.0, 0.0}, gam_sj = 0.0;
                for (std::size_t qk = qj + 1; qk < n; ++qk) {
                    const SwPair& pk = pairs[qk];
                    if (!pk.inside) continue;
                    const double lam = pj.sqrt_lam * pk.sqrt_lam;
                    const double cs = pj.u[0] * pk.u[0] + pj.u[1] * pk.u[1] + pj.u[2] * pk.u[2];
                    const double D = cs - (pj.half_c0 + pk.half_c0);
                    const double Gj = pj.g, Gk = pk.g, Pj = pj.gp, Pk = pk.gp;
                    const double irj = pj.inv_r, irk = pk.inv_r;
                    const double GG = Gj * Gk;
                    const double DG = D * GG;
                    const double D2 = D * D;
                    // energy and gradient per unit λ:
                    // dE/dr_ij = λ (αj u_j + βj u_k), dE/dr_ik = λ (αk u_k + βk u_j)
                    const double e0 = D2 * GG;
                    const double aj0 = -2.0 * cs * DG * irj + D2 * Pj * Gk;
                    const double bj0 = 2.0 * DG * irj;
                    const double ak0 = -2.0 * cs * DG * irk + D2 * Gj * Pk;
                    const double bk0 = 2.0 * DG * irk;
                    double vj[3], vk[3];
                    for (int x = 0; x < 3; ++x) {
                        vj[x] = lam * (aj0 * pj.u[x] + bj0 * pk.u[x]);
                        vk[x] = lam * (ak0 * pk.u[x] + bk0 * pj.u[x]);
                        acc_j[x] += vj[x];
                        a3[3 * qk + x] += vk[x];
                    }
                    e3_atom += lam * e0;
                    {
                        if (fast_gam) {
                            const double wj = pj.inv_dr, wk = pk.inv_dr;
                            const double ldg = lam * D2 * GG;
                            e3_gam += (wj + wk) * lam * e0;
                            for (int x = 0; x < 3; ++x) {
                                gam_vj[x] += wk * vj[x];
                                gam_v[3 * qk + x] += wj * vk[x];
                            }
                            gam_sj += ldg;
                            gam_s[qk] += ldg;
                        }
                    }
                    {
                        TripletSink sink{denergy, need_da ? da.data() : nullptr, NC, 3 * qj * NC, 3 * qk * NC,
                                         pj.u, pk.u};
                        if (want_lam && !fast_lam) {
                            const Tangent unit{e0 * lam, aj0 * lam, bj0 * lam, ak0 * lam, bk0 * lam};
                            sink.add2(pj.col_lam, unit * pj.inv_2lam, pk.col_lam, unit * pk.inv_2lam);
                        }
                        if (want_c0) {
                            // each pair's cos θ0 enters with weight 1/2
                            const Tangent half{-lam * D * GG, lam * (cs * GG * irj - D * Pj * Gk), -lam * GG * irj,
                                               lam * (cs * GG * irk - D * Gj * Pk), -lam * GG * irk};
                            sink.add2(pj.col_c0, half, pk.col_c0, half);
                        }
                        if (want_gam || want_rc) {
                            // γ and rc enter only through g = exp(γ w), w = 1/(r − rc), so their
                            // derivatives are the triplet's own (E3, α, β) scaled (by w, resp. γw²),
                            // plus a radial term from g' in α of the same side.
                            const double E3 = lam * e0, aj = lam * aj0, bj = lam * bj0, ak = lam * ak0, bk = lam * bk0;
                            const double wj = pj.inv_dr, wk = pk.inv_dr;
                            if (want_gam && !fast_gam) {
                                const double ldg = lam * D2 * GG;
                                sink.add2(pj.col_gam, {wj * E3, wj * aj - ldg * wj * wj, wj * bj, wj * ak, wj * bk},
                                     pk.col_gam, {wk * E3, wk * aj, wk * bj, wk * ak - ldg * wk * wk, wk * bk});
                            }
                            if (want_rc) {
                                const double tj = pj.gam * wj * wj, tk = pk.gam * wk * wk;
                                sink.add2(pj.col_rc, {tj * E3, tj * aj + 2.0 * wj * lam * D2 * Pj * Gk, tj * bj, tj * ak, tj * bk},
                                     pk.col_rc, {tk * E3, tk * aj, tk * bj, tk * ak + 2.0 * wk * lam * D2 * Gj * Pk, tk * bk});
                            }
                        }
                    }
                }
                for (int x = 0; x < 3; ++x) {
                    a3[3 * qj + x] += acc_j[x];
                    if (fast_gam) gam_v[3 * qj + x] += gam_vj[x];
                }
                if (fast_gam) gam_s[qj] += gam_sj;
            }
        };
        if (ParamDerivs && slow_tangents) {
            triplet_tangents();
        } else {
            const bool gam_sums = ParamDerivs && fast_gam;
            sums.accumulate(n_inside);
            // dE_i/dr_ij = (P Q + ir M) u + ir T; E3 = 1/2 Σ G Q; with γ: the γ-weighted sums in
            // the same form, λ Σ_k D² g_j g_k = G_j Q_j and Σ (w_j + w_k) E3 = Σ w G Q
            double e3_twice = 0.0;
            for (std::size_t m = 0; m < n_inside; ++m) {
                const std::size_t q = sums.pair[m];
                const double ir = sums.ir[m], P = sums.P[m];
                const Twin Q = sums.Q[m], M = sums.M[m];
                const Twin u[3] = {sums.ux[m], sums.uy[m], sums.uz[m]};
                const Twin T[3] = {sums.Tx[m], sums.Ty[m], sums.Tz[m]};
                const double coef = P * Q[0] + ir * M[0];
                double* dest = keep_a3 ? &a3[3 * q] : &a[3 * q];
                for (int x = 0; x < 3; ++x) dest[x] += coef * u[x][0] + ir * T[x][0];
                const double gq = sums.G[m][0] * Q[0];
                e3_twice += gq;
                if (gam_sums) {
                    const double coef_w = P * Q[1] + ir * M[1];
                    for (int x = 0; x < 3; ++x) gam_v[3 * q + x] = coef_w * u[x][0] + ir * T[x][1];
                    gam_s[q] = gq;
                    e3_gam += sums.w[m] * gq;
                }
            }
            e3_atom = 0.5 * e3_twice;
        }
        atom_e += e3_atom;
        if (keep_a3) {
            for (std::size_t k = 0; k < 3 * n; ++k) a[k] += a3[k];
        }
        if constexpr (ParamDerivs) {
            // one species: finish the λ and γ derivatives from the per-pair sums
            // dE3/dλ = E3/λ;  d(dE/dr_iq)/dγ = w_q a3_q + Σ_p w_p v_qp − w_q² u_q Σ_p λD²gg
            const int col_lam = fast_lam ? column(kLambda, 0) : -1;
            const int col_gam = fast_gam ? column(kGamma, 0) : -1;
            const double inv_lam = fast_lam ? 1.0 / params[kLambda] : 0.0;
            if (denergy && col_lam >= 0) denergy[col_lam] += e3_atom * inv_lam;
            if (denergy && col_gam >= 0) denergy[col_gam] += e3_gam;
            if (need_da && (col_lam >= 0 || col_gam >= 0)) {
                for (std::size_t q = 0; q < n; ++q) {
                    const SwPair& pr = pairs[q];
                    if (!pr.inside) continue;
                    for (int x = 0; x < 3; ++x) {
                        double* dq = &da[(3 * q + x) * NC];
                        if (col_lam >= 0) dq[col_lam] += a3[3 * q + x] * inv_lam;
                        if (col_gam >= 0) {
                            dq[col_gam] += pr.inv_dr * a3[3 * q + x] + gam_v[3 * q + x] -
                                           pr.inv_dr * pr.inv_dr * gam_s[q] * pr.u[x];
                        }
                    }
                }
            }
        }

        // ---- scatter dE_i/dr_ij to forces of i and j and to the strain derivative
        double force_i[3] = {0.0, 0.0, 0.0};  // atom i's sum, added once below
        for (std::size_t q = 0; q < n; ++q) {
            const SwPair& pr = pairs[q];
            if (!pr.inside) continue;
            const double* av = &a[3 * q];
            const double* d = b.rij + 3 * (p0 + q);
            if (out.forces) {
                for (int x = 0; x < 3; ++x) {
                    force_i[x] += av[x];
                    out.forces[3 * pr.j + x] -= av[x];
                }
            }
            if (out.stress) add_virial(virial, av, d);
            if (need_da) {
                const double* dq = &da[3 * q * NC];
                if (out.dforces) {
                    double* fi = out.dforces_rows(i, NC);
                    double* fj = out.dforces_rows(pr.j, NC);
                    for (std::size_t k = 0; k < 3 * NC; ++k) {
                        fi[k] += dq[k];
                        fj[k] -= dq[k];
                    }
                }
                if (dvirial) {
                    const double* dx = dq;
                    const double* dy = dq + NC;
                    const double* dz = dq + 2 * NC;
                    for (std::size_t t = 0; t < NC; ++t) {
                        dvirial[0 * NC + t] += dx[t] * d[0];
                        dvirial[1 * NC + t] += dy[t] * d[1];
                        dvirial[2 * NC + t] += dz[t] * d[2];
                        dvirial[3 * NC + t] += 0.5 * (dy[t] * d[2] + dz[t] * d[1]);
                        dvirial[4 * NC + t] += 0.5 * (dx[t] * d[2] + dz[t] * d[0]);
                        dvirial[5 * NC + t] += 0.5 * (dx[t] * d[1] + dy[t] * d[0]);
                    }
                }
            }
        }
        if (out.forces) {
            for (int x = 0; x < 3; ++x) out.forces[3 * i + x] += force_i[x];
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
template void StillingerWeber::compute_config_impl<false>(const BatchView&, std::int64_t, const double*, const Outputs&,
                                                          const ParamColumns&) const;
template void StillingerWeber::compute_config_impl<true>(const BatchView&, std::int64_t, const double*, const Outputs&,
                                                         const ParamColumns&) const;

}  // namespace forcefit
