// Jacobian blocks of the Ctilde ACE model (see ctilde_jacobian.hpp for the maths and the cost).
//
// Columns are first gathered in "slot" order -- per species the product terms [terms][nd] and the rank-1
// slots [slots][nd] of the compiled DAG, then crad in the flat layout -- into a row buffer of the
// configuration being worked on, and mapped onto the input ctildes (ParamRef: slot and sign) when the
// configuration is done.  Tangent arrays keep the K directions of a block contiguous (real and imaginary
// parts apart) so that the inner loops run over the block.
#include "forcefit/ace/ctilde_jacobian.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include "ctilde_internal.hpp"
#include "forcefit/error.hpp"
#include "forcefit/parallel.hpp"

namespace forcefit::ace {

namespace {

constexpr int K = 8;  // tangent directions per block

// rows of a configuration's buffer: energy, six Voigt virials, then 3 per atom
constexpr int ROW_VIRIAL = 1, ROW_FORCES = 7;

// Voigt index of W_ab (xx yy zz yz xz xy): {1,2} -> 3, {0,2} -> 4, {0,1} -> 5
inline int voigt(int a, int b) { return a == b ? a : 6 - a - b; }

}  // namespace

class CtildeJacobianKernel {
public:
    static void run(const CtildeModel& m, std::int64_t natoms, const std::int32_t* species,
                    const std::int64_t* first, const std::int64_t* neigh, const double* rij, std::int64_t nconfigs,
                    const std::int64_t* atom_offset, const JacobianOptions& options, double* energies,
                    double* forces, double* virial, double* jac_energy, double* jac_forces, double* jac_virial);

private:
    // column offsets of the slot layout
    struct Columns {
        std::vector<std::int64_t> term, rank1;  // per species
        std::int64_t crad = 0, total = 0;
        std::vector<std::int64_t> crad_offsets;  // flat crad layout, per bond
    };
    struct Work {
        // per neighbour inside the cutoff
        std::vector<double> rad, drad, u, r, hb;
        std::vector<cdouble> y, dy;
        std::vector<cdouble> Z;  // [nel][lm (m >= 0)][nbasis]: sum over neighbours of a species of Y_lm g_q
        std::vector<int> mu, count;
        std::vector<std::int64_t> jloc;
        // values and adjoints (real arithmetic)
        std::vector<cdouble> vb, ab;
        std::vector<double> a1b, reb, thetab;
        // tangents, [.][K]
        std::vector<double> vtr, vti, atr, ati, a1t, ret, G;
        std::vector<double> rhob, rhot, dF, F2, rhobar, rhobart;
    };

    static void atom(const CtildeModel& m, int mu_i, const std::int32_t* species, std::int64_t begin,
                     std::int64_t end, const std::int64_t* neigh, const double* rij, std::int64_t i_local,
                     std::int64_t atom0, bool splines, int nf, const Columns& cols, Work& ws, double* buf);
};

void CtildeJacobianKernel::atom(const CtildeModel& m, int mu_i, const std::int32_t* species, std::int64_t begin,
                                std::int64_t end, const std::int64_t* neigh, const double* rij,
                                std::int64_t i_local, std::int64_t atom0, bool splines, int nf, const Columns& cols,
                                Work& ws, double* buf) {
    const auto& sp = m.species_[mu_i];
    const int nd = sp.ndensity, nlm = lm_count(m.lmax_), nel = m.nel_, nbasis = m.nbasis_;
    const int nlm_full = m.nlm_, nradmax = m.nradmax_, nleaf = m.nleaf_, nl_stride = m.nradmax_ * (m.lmax_ + 1);
    const std::int64_t P = cols.total;
    const std::size_t ninternal = sp.nodes.size(), nnode = std::size_t(nleaf) + ninternal;
    const std::size_t nterms = sp.term_leaf.size(), nrank1 = sp.a1_index.size();

    // ---- neighbours: radial functions, harmonics, leaf values
    const std::size_t kmax = std::size_t(end - begin);
    if (ws.r.size() < kmax) {
        ws.rad.resize(kmax * nf);
        ws.drad.resize(kmax * nf);
        ws.u.resize(3 * kmax);
        ws.r.resize(kmax);
        ws.hb.resize(kmax * nl_stride);
        ws.y.resize(kmax * nlm);
        ws.dy.resize(kmax * nlm * 3);
        ws.mu.resize(kmax);
        ws.jloc.resize(kmax);
    }
    std::fill(ws.vb.begin(), ws.vb.begin() + nleaf, cdouble{});
    std::fill(ws.a1b.begin(), ws.a1b.end(), 0.0);
    std::fill(ws.Z.begin(), ws.Z.end(), cdouble{});
    std::fill(ws.count.begin(), ws.count.end(), 0);
    double rho_core = 0.0, dmin = m.cutoff_, dcut_in_min = 0.0;
    int kmin = -1, nn = 0;
    for (std::int64_t p = begin; p < end; ++p) {
        const std::int64_t j = neigh[p];
        const int mu_j = species[j];
        const double* d = rij + 3 * p;
        const double r = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        const BondRadial& bond = m.bonds_[mu_i * nel + mu_j];
        if (r >= bond.rcut()) continue;
        if (!(r > 0.0)) throw InputError("ACE: a neighbour at zero distance");
        double* u = &ws.u[3 * std::size_t(nn)];
        for (int c = 0; c < 3; ++c) u[c] = d[c] / r;
        double* rad = &ws.rad[std::size_t(nn) * nf];
        double* drad = &ws.drad[std::size_t(nn) * nf];
        if (splines) bond.spline(r, rad, drad);
        else bond.analytic(r, rad, drad);
        cdouble* y = &ws.y[std::size_t(nn) * nlm];
        m.ylm_.compute(u, y, &ws.dy[std::size_t(nn) * nlm * 3]);
        ws.r[nn] = r;
        ws.mu[nn] = mu_j;
        ws.jloc[nn] = j - atom0;
        double* a1 = &ws.a1b[std::size_t(mu_j) * nbasis];
        for (int q = 0; q < nbasis; ++q) a1[q] += rad[q];
        const int L1 = bond.lmax() + 1;
        ++ws.count[mu_j];
        cdouble* Z = &ws.Z[std::size_t(mu_j) * nlm * nbasis];
        for (int lm = 0; lm < lm_count(bond.lmax()); ++lm)
            for (int q = 0; q < bond.spec().nradbase; ++q) Z[std::size_t(lm) * nbasis + q] += y[lm] * rad[q];
        cdouble* A = ws.vb.data() + std::size_t(mu_j) * nradmax * nlm_full;
        for (int n = 0; n < bond.nradial(); ++n)
            for (int l = 0; l < L1; ++l) {
                const double R = rad[nbasis + n * L1 + l];
                cdouble* Anl = A + std::size_t(n) * nlm_full + l * l + l;
                const cdouble* yl = y + lm_index(l, 0);
                for (int mm = 0; mm <= l; ++mm) Anl[mm] += R * yl[mm];
            }
        rho_core += rad[bond.nfunctions() - 1];
        if (m.zbl_) {
            const double dz = r - (bond.spec().rcut_in - bond.spec().dcut_in);
            if (dz < dmin) {
                dmin = dz;
                kmin = nn;
                dcut_in_min = bond.spec().dcut_in;
            }
        }
        ++nn;
    }
    for (int blk = 0; blk < nel * nradmax; ++blk) {
        cdouble* An = ws.vb.data() + std::size_t(blk) * nlm_full;
        for (int l = 1; l <= m.lmax_; ++l)
            for (int mm = 1; mm <= l; ++mm)
                An[l * l + l - mm] = ((mm & 1) ? -1.0 : 1.0) * std::conj(An[l * l + l + mm]);
    }

    // ---- values: DAG, densities, embedding derivative
    cdouble* vb = ws.vb.data();
    for (std::size_t q = 0; q < ninternal; ++q) vb[nleaf + q] = vb[sp.nodes[q].left] * vb[sp.nodes[q].right];
    double* rhob = ws.rhob.data();
    std::fill(rhob, rhob + nd, 0.0);
    for (std::size_t t = 0; t < nrank1; ++t)
        for (int p = 0; p < nd; ++p) rhob[p] += sp.w1[t * nd + p] * ws.a1b[sp.a1_index[t]];
    const std::size_t ngroups = sp.group_prefix.size();
    for (std::size_t gi = 0; gi < ngroups; ++gi) {
        const cdouble P0 = vb[sp.group_prefix[gi]];
        for (std::int32_t t = sp.group_first[gi]; t < sp.group_first[gi + 1]; ++t) {
            const double re = (P0 * vb[sp.term_leaf[t]]).real();
            ws.reb[t] = re;
            for (int p = 0; p < nd; ++p) rhob[p] += sp.term_coef[std::size_t(t) * nd + p] * re;
        }
    }
    // fcut and its derivative with respect to the quantity it switches on (rho_core or the ZBL distance)
    const EmbeddingSpec& emb = m.emb_[mu_i];
    double fcut = 1.0, dfcut = 0.0;
    if (m.zbl_) {
        if (kmin >= 0) {
            double f, df;
            cutoff_poly(dcut_in_min - dmin, dcut_in_min, dcut_in_min, f, df);
            fcut = f;
            dfcut = -df;  // d fcut / d dmin
        }
    } else if (rho_core >= emb.rho_core_cutoff) {
        fcut = 0.0;
    } else if (rho_core > emb.rho_core_cutoff - emb.drho_core_cutoff) {
        cutoff_poly(rho_core, emb.rho_core_cutoff, emb.drho_core_cutoff, fcut, dfcut);
    }
    double* dF = ws.dF.data();
    double* F2 = ws.F2.data();
    double* rhobar = ws.rhobar.data();
    for (int p = 0; p < nd; ++p) {
        double f, df;
        const double mexp = emb.fs_parameters[2 * p + 1], pre = emb.fs_parameters[2 * p];
        embedding_value(emb.kind, rhob[p], mexp, f, df);
        dF[p] = pre * df;
        F2[p] = pre * embedding_second(emb.kind, rhob[p], mexp);
        rhobar[p] = dF[p] * fcut;
    }

    // ---- reverse sweep in real arithmetic: abar = dE_i/dA
    cdouble* ab = ws.ab.data();
    std::fill(ab, ab + nnode, cdouble{});
    for (std::size_t gi = 0; gi < ngroups; ++gi) {
        const std::int32_t pid = sp.group_prefix[gi];
        for (std::int32_t t = sp.group_first[gi]; t < sp.group_first[gi + 1]; ++t) {
            const double* c = &sp.term_coef[std::size_t(t) * nd];
            double theta = 0.0;
            for (int p = 0; p < nd; ++p) theta += rhobar[p] * c[p];
            ws.thetab[t] = theta;
            ab[sp.term_leaf[t]] += theta * vb[pid];
            ab[pid] += theta * vb[sp.term_leaf[t]];
        }
    }
    for (std::size_t q = ninternal; q-- > 0;) {
        const cdouble z = ab[nleaf + q];
        ab[sp.nodes[q].left] += z * vb[sp.nodes[q].right];
        ab[sp.nodes[q].right] += z * vb[sp.nodes[q].left];
    }
    // dE = Re(sum abar dA): the leaf A_{l,-m} = (-1)^m conj(A_lm) passes (-1)^m conj(abar) to A_lm
    for (int blk = 0; blk < nel * nradmax; ++blk) {
        cdouble* Gn = ab + std::size_t(blk) * nlm_full;
        for (int l = 1; l <= m.lmax_; ++l)
            for (int mm = 1; mm <= l; ++mm)
                Gn[l * l + l + mm] += ((mm & 1) ? -1.0 : 1.0) * std::conj(Gn[l * l + l - mm]);
    }

    // ---- energy row: dE_i/dtheta
    {
        double* row = buf;
        const std::int64_t c1 = cols.rank1[mu_i], ct = cols.term[mu_i];
        for (std::size_t t = 0; t < nrank1; ++t)
            for (int p = 0; p < nd; ++p) row[c1 + std::int64_t(t) * nd + p] += rhobar[p] * ws.a1b[sp.a1_index[t]];
        for (std::size_t t = 0; t < nterms; ++t)
            for (int p = 0; p < nd; ++p) row[ct + std::int64_t(t) * nd + p] += rhobar[p] * ws.reb[t];
        for (int kk = 0; kk < nn; ++kk) {
            const int b = mu_i * nel + ws.mu[kk];
            const BondRadial& bond = m.bonds_[b];
            const int L1 = bond.lmax() + 1, nb = bond.spec().nradbase;
            const cdouble* y = &ws.y[std::size_t(kk) * nlm];
            const double* rad = &ws.rad[std::size_t(kk) * nf];
            const cdouble* abar = ab + std::size_t(ws.mu[kk]) * nradmax * nlm_full;
            double* hb = &ws.hb[std::size_t(kk) * nl_stride];
            double* gc = row + cols.crad + cols.crad_offsets[b];
            for (int n = 0; n < bond.nradial(); ++n)
                for (int l = 0; l < L1; ++l) {
                    const cdouble* an = abar + std::size_t(n) * nlm_full + l * l + l;
                    const cdouble* yl = y + lm_index(l, 0);
                    double h = 0.0;
                    for (int mm = 0; mm <= l; ++mm) h += (an[mm] * yl[mm]).real();
                    hb[n * L1 + l] = h;
                    double* gnl = gc + std::size_t(n * L1 + l) * nb;
                    for (int q = 0; q < nb; ++q) gnl[q] += h * rad[q];
                }
        }
    }

    // ---- blocks of K directions (neighbour kk, axis a), d = 3 kk + a
    double* vtr = ws.vtr.data();
    double* vti = ws.vti.data();
    double* atr = ws.atr.data();
    double* ati = ws.ati.data();
    double* a1t = ws.a1t.data();
    double* ret = ws.ret.data();
    double* rhot = ws.rhot.data();
    double* rhobart = ws.rhobart.data();
    double* G = ws.G.data();
    const int ndir = 3 * nn;
    for (int d0 = 0; d0 < ndir; d0 += K) {
        const int kb = std::min(K, ndir - d0);
        std::fill(vtr, vtr + std::size_t(nleaf) * K, 0.0);
        std::fill(vti, vti + std::size_t(nleaf) * K, 0.0);
        std::fill(a1t, a1t + std::size_t(nel) * nbasis * K, 0.0);
        double fcut_t[K] = {};
        for (int kd = 0; kd < kb; ++kd) {
            const int kk = (d0 + kd) / 3, a = (d0 + kd) % 3;
            const int mu_j = ws.mu[kk];
            const BondRadial& bond = m.bonds_[mu_i * nel + mu_j];
            const double* rad = &ws.rad[std::size_t(kk) * nf];
            const double* drad = &ws.drad[std::size_t(kk) * nf];
            const double ua = ws.u[3 * kk + a], inv_r = 1.0 / ws.r[kk];
            const cdouble* y = &ws.y[std::size_t(kk) * nlm];
            const cdouble* dy = &ws.dy[std::size_t(kk) * nlm * 3];
            for (int q = 0; q < nbasis; ++q) a1t[(std::size_t(mu_j) * nbasis + q) * K + kd] += drad[q] * ua;
            const int L1 = bond.lmax() + 1;
            const std::size_t base = std::size_t(mu_j) * nradmax * nlm_full;
            for (int n = 0; n < bond.nradial(); ++n)
                for (int l = 0; l < L1; ++l) {
                    const double R = rad[nbasis + n * L1 + l], Rd = drad[nbasis + n * L1 + l] * ua;
                    const std::size_t leaf0 = base + std::size_t(n) * nlm_full + l * l + l;
                    for (int mm = 0; mm <= l; ++mm) {
                        const int lm = lm_index(l, mm);
                        const cdouble t = Rd * y[lm] + R * inv_r * dy[3 * lm + a];
                        vtr[(leaf0 + mm) * K + kd] += t.real();
                        vti[(leaf0 + mm) * K + kd] += t.imag();
                    }
                }
            if (m.zbl_) fcut_t[kd] = kk == kmin ? dfcut * ua : 0.0;
            else fcut_t[kd] = dfcut * drad[bond.nfunctions() - 1] * ua;
        }
        for (int blk = 0; blk < nel * nradmax; ++blk) {
            const std::size_t b0 = std::size_t(blk) * nlm_full;
            for (int l = 1; l <= m.lmax_; ++l)
                for (int mm = 1; mm <= l; ++mm) {
                    const double s = (mm & 1) ? -1.0 : 1.0;
                    const std::size_t pos = (b0 + l * l + l + mm) * K, neg = (b0 + l * l + l - mm) * K;
                    for (int kd = 0; kd < K; ++kd) {
                        vtr[neg + kd] = s * vtr[pos + kd];
                        vti[neg + kd] = -s * vti[pos + kd];
                    }
                }
        }
        // forward tangents
        for (std::size_t q = 0; q < ninternal; ++q) {
            const std::int32_t L = sp.nodes[q].left, R = sp.nodes[q].right;
            const double xr = vb[L].real(), xi = vb[L].imag(), yr = vb[R].real(), yi = vb[R].imag();
            const double* xtr = vtr + std::size_t(L) * K;
            const double* xti = vti + std::size_t(L) * K;
            const double* ytr = vtr + std::size_t(R) * K;
            const double* yti = vti + std::size_t(R) * K;
            double* ztr = vtr + (nleaf + q) * K;
            double* zti = vti + (nleaf + q) * K;
            for (int kd = 0; kd < K; ++kd) {
                ztr[kd] = xr * ytr[kd] - xi * yti[kd] + xtr[kd] * yr - xti[kd] * yi;
                zti[kd] = xr * yti[kd] + xi * ytr[kd] + xtr[kd] * yi + xti[kd] * yr;
            }
        }
        // density tangents
        std::fill(rhot, rhot + std::size_t(nd) * K, 0.0);
        for (std::size_t t = 0; t < nrank1; ++t) {
            const double* at = a1t + std::size_t(sp.a1_index[t]) * K;
            for (int p = 0; p < nd; ++p) {
                const double w = sp.w1[t * nd + p];
                for (int kd = 0; kd < K; ++kd) rhot[p * K + kd] += w * at[kd];
            }
        }
        for (std::size_t gi = 0; gi < ngroups; ++gi) {
            const std::int32_t pid = sp.group_prefix[gi];
            const double pr = vb[pid].real(), pi = vb[pid].imag();
            const double* ptr = vtr + std::size_t(pid) * K;
            const double* pti = vti + std::size_t(pid) * K;
            for (std::int32_t t = sp.group_first[gi]; t < sp.group_first[gi + 1]; ++t) {
                const std::int32_t leaf = sp.term_leaf[t];
                const double ar = vb[leaf].real(), ai = vb[leaf].imag();
                const double* atr_l = vtr + std::size_t(leaf) * K;
                const double* ati_l = vti + std::size_t(leaf) * K;
                double* rt = ret + std::size_t(t) * K;
                for (int kd = 0; kd < K; ++kd)
                    rt[kd] = pr * atr_l[kd] - pi * ati_l[kd] + ptr[kd] * ar - pti[kd] * ai;
                const double* c = &sp.term_coef[std::size_t(t) * nd];
                for (int p = 0; p < nd; ++p)
                    for (int kd = 0; kd < K; ++kd) rhot[p * K + kd] += c[p] * rt[kd];
            }
        }
        for (int p = 0; p < nd; ++p)
            for (int kd = 0; kd < K; ++kd)
                rhobart[p * K + kd] = F2[p] * rhot[p * K + kd] * fcut + dF[p] * fcut_t[kd];

        // reverse sweep in tangent arithmetic
        std::fill(atr, atr + nnode * K, 0.0);
        std::fill(ati, ati + nnode * K, 0.0);
        for (std::size_t gi = 0; gi < ngroups; ++gi) {
            const std::int32_t pid = sp.group_prefix[gi];
            const double pr = vb[pid].real(), pi = vb[pid].imag();
            const double* ptr = vtr + std::size_t(pid) * K;
            const double* pti = vti + std::size_t(pid) * K;
            double* gpr = atr + std::size_t(pid) * K;
            double* gpi = ati + std::size_t(pid) * K;
            for (std::int32_t t = sp.group_first[gi]; t < sp.group_first[gi + 1]; ++t) {
                const std::int32_t leaf = sp.term_leaf[t];
                const double ar = vb[leaf].real(), ai = vb[leaf].imag(), th = ws.thetab[t];
                const double* c = &sp.term_coef[std::size_t(t) * nd];
                double tht[K] = {};
                for (int p = 0; p < nd; ++p)
                    for (int kd = 0; kd < K; ++kd) tht[kd] += rhobart[p * K + kd] * c[p];
                const double* atr_l = vtr + std::size_t(leaf) * K;
                const double* ati_l = vti + std::size_t(leaf) * K;
                double* glr = atr + std::size_t(leaf) * K;
                double* gli = ati + std::size_t(leaf) * K;
                for (int kd = 0; kd < K; ++kd) {
                    glr[kd] += th * ptr[kd] + tht[kd] * pr;
                    gli[kd] += th * pti[kd] + tht[kd] * pi;
                    gpr[kd] += th * atr_l[kd] + tht[kd] * ar;
                    gpi[kd] += th * ati_l[kd] + tht[kd] * ai;
                }
            }
        }
        for (std::size_t q = ninternal; q-- > 0;) {
            const std::int32_t L = sp.nodes[q].left, R = sp.nodes[q].right;
            const std::size_t z = nleaf + q;
            const double zr = ab[z].real(), zi = ab[z].imag();
            const double xr = vb[L].real(), xi = vb[L].imag(), yr = vb[R].real(), yi = vb[R].imag();
            const double* ztr = atr + z * K;
            const double* zti = ati + z * K;
            const double* xtr = vtr + std::size_t(L) * K;
            const double* xti = vti + std::size_t(L) * K;
            const double* ytr = vtr + std::size_t(R) * K;
            const double* yti = vti + std::size_t(R) * K;
            double* lr = atr + std::size_t(L) * K;
            double* li = ati + std::size_t(L) * K;
            double* rr = atr + std::size_t(R) * K;
            double* ri = ati + std::size_t(R) * K;
            for (int kd = 0; kd < K; ++kd) {
                // abar(x) += abar(z) y, abar(y) += abar(z) x, differentiated
                lr[kd] += zr * ytr[kd] - zi * yti[kd] + ztr[kd] * yr - zti[kd] * yi;
                li[kd] += zr * yti[kd] + zi * ytr[kd] + ztr[kd] * yi + zti[kd] * yr;
                rr[kd] += zr * xtr[kd] - zi * xti[kd] + ztr[kd] * xr - zti[kd] * xi;
                ri[kd] += zr * xti[kd] + zi * xtr[kd] + ztr[kd] * xi + zti[kd] * xr;
            }
        }
        for (int blk = 0; blk < nel * nradmax; ++blk) {
            const std::size_t b0 = std::size_t(blk) * nlm_full;
            for (int l = 1; l <= m.lmax_; ++l)
                for (int mm = 1; mm <= l; ++mm) {
                    const double s = (mm & 1) ? -1.0 : 1.0;
                    const std::size_t pos = (b0 + l * l + l + mm) * K, neg = (b0 + l * l + l - mm) * K;
                    for (int kd = 0; kd < K; ++kd) {
                        atr[pos + kd] += s * atr[neg + kd];
                        ati[pos + kd] -= s * ati[neg + kd];
                    }
                }
        }

        // parameter tangents G[kd][column] = d/dr_d (dE_i/dtheta), slot layout
        std::fill(G, G + std::size_t(K) * P, 0.0);
        const std::int64_t c1 = cols.rank1[mu_i], ct = cols.term[mu_i];
        for (std::size_t t = 0; t < nrank1; ++t) {
            const std::int32_t idx = sp.a1_index[t];
            const double* at = a1t + std::size_t(idx) * K;
            for (int p = 0; p < nd; ++p) {
                const std::int64_t col = c1 + std::int64_t(t) * nd + p;
                for (int kd = 0; kd < kb; ++kd)
                    G[kd * P + col] = rhobar[p] * at[kd] + rhobart[p * K + kd] * ws.a1b[idx];
            }
        }
        for (std::size_t t = 0; t < nterms; ++t) {
            const double* rt = ret + t * K;
            for (int p = 0; p < nd; ++p) {
                const std::int64_t col = ct + std::int64_t(t) * nd + p;
                for (int kd = 0; kd < kb; ++kd) G[kd * P + col] = rhobar[p] * rt[kd] + rhobart[p * K + kd] * ws.reb[t];
            }
        }
        // crad through the adjoint tangents of the leaves: sum over the neighbours kk of species mu_j of
        // Re(abar_t Y_lm(kk)) g_q(kk) = Re(abar_t Z_lm,q), Z summed once per atom
        for (int mu_j = 0; mu_j < nel; ++mu_j) {
            if (ws.count[mu_j] == 0) continue;
            const int b = mu_i * nel + mu_j;
            const BondRadial& bond = m.bonds_[b];
            const int L1 = bond.lmax() + 1, nb = bond.spec().nradbase;
            const cdouble* Z = &ws.Z[std::size_t(mu_j) * nlm * nbasis];
            const std::size_t leaf_base = std::size_t(mu_j) * nradmax * nlm_full;
            const std::int64_t cc = cols.crad + cols.crad_offsets[b];
            for (int n = 0; n < bond.nradial(); ++n)
                for (int l = 0; l < L1; ++l) {
                    const std::size_t leaf0 = leaf_base + std::size_t(n) * nlm_full + l * l + l;
                    const std::int64_t col0 = cc + std::int64_t(n * L1 + l) * nb;
                    for (int q = 0; q < nb; ++q) {
                        double acc[K] = {};
                        for (int mm = 0; mm <= l; ++mm) {
                            const cdouble z = Z[std::size_t(lm_index(l, mm)) * nbasis + q];
                            const double* gr = atr + (leaf0 + mm) * K;
                            const double* gi = ati + (leaf0 + mm) * K;
                            for (int kd = 0; kd < K; ++kd) acc[kd] += gr[kd] * z.real() - gi[kd] * z.imag();
                        }
                        for (int kd = 0; kd < kb; ++kd) G[kd * P + col0 + q] += acc[kd];
                    }
                }
        }
        // the moved neighbour's own Y_lm and g_q change too
        for (int kd = 0; kd < kb; ++kd) {
            const int kk = (d0 + kd) / 3, a = (d0 + kd) % 3;
            const int b = mu_i * nel + ws.mu[kk];
            const BondRadial& bond = m.bonds_[b];
            const int L1 = bond.lmax() + 1, nb = bond.spec().nradbase;
            const double* rad = &ws.rad[std::size_t(kk) * nf];
            const double* drad = &ws.drad[std::size_t(kk) * nf];
            const cdouble* dy = &ws.dy[std::size_t(kk) * nlm * 3];
            const double ua = ws.u[3 * kk + a], inv_r = 1.0 / ws.r[kk];
            const std::size_t leaf_base = std::size_t(ws.mu[kk]) * nradmax * nlm_full;
            double* g = G + kd * P + cols.crad + cols.crad_offsets[b];
            for (int n = 0; n < bond.nradial(); ++n)
                for (int l = 0; l < L1; ++l) {
                    const std::size_t leaf0 = leaf_base + std::size_t(n) * nlm_full + l * l + l;
                    double hy = 0.0;
                    for (int mm = 0; mm <= l; ++mm) hy += (ab[leaf0 + mm] * dy[3 * lm_index(l, mm) + a]).real();
                    hy *= inv_r;
                    const double hbv = ws.hb[std::size_t(kk) * nl_stride + n * L1 + l];
                    double* gnl = g + std::size_t(n * L1 + l) * nb;
                    for (int q = 0; q < nb; ++q) gnl[q] += hy * rad[q] + hbv * drad[q] * ua;
                }
        }

        // scatter: F_i += g, F_j -= g, W_ab -= r_a g_b
        for (int kd = 0; kd < kb; ++kd) {
            const int kk = (d0 + kd) / 3, a = (d0 + kd) % 3;
            const double* g = G + kd * P;
            if (ws.jloc[kk] != i_local) {  // a periodic image of i itself: the two cancel
                double* ri = buf + (ROW_FORCES + 3 * i_local + a) * P;
                double* rj = buf + (ROW_FORCES + 3 * ws.jloc[kk] + a) * P;
                for (std::int64_t col = 0; col < P; ++col) ri[col] += g[col];
                for (std::int64_t col = 0; col < P; ++col) rj[col] -= g[col];
            }
            const double* rvec = &ws.u[3 * kk];
            for (int c = 0; c < 3; ++c) {
                const double w = -(c == a ? 1.0 : 0.5) * rvec[c] * ws.r[kk];
                double* rw = buf + (ROW_VIRIAL + voigt(c, a)) * P;
                for (std::int64_t col = 0; col < P; ++col) rw[col] += w * g[col];
            }
        }
    }
}

void CtildeJacobianKernel::run(const CtildeModel& m, std::int64_t natoms, const std::int32_t* species,
                               const std::int64_t* first, const std::int64_t* neigh, const double* rij,
                               std::int64_t nconfigs, const std::int64_t* atom_offset, const JacobianOptions& options,
                               double* energies, double* forces, double* virial, double* jac_energy,
                               double* jac_forces, double* jac_virial) {
    const std::string who = "ACE parameter_jacobian";
    for (int mu = 0; mu < m.nel_; ++mu)
        for (const auto& ref : m.species_[mu].refs)
            if (ref.kind < 0) throw InputError(who + ": the model dropped zero ctildes; build it with keep_zero_terms=true");
    const std::vector<std::int64_t> config =
        detail::check_batch(m.nel_, natoms, species, first, neigh, nconfigs, atom_offset, who);

    ComputeOptions copt;
    copt.forces = true;
    copt.splines = options.splines;
    copt.num_threads = options.num_threads;
    {
        std::vector<double> atom_energy(natoms), pair_grad(3 * std::size_t(first[natoms]));
        m.compute_pairs(natoms, species, first, natoms, species, neigh, rij, copt, atom_energy.data(),
                        pair_grad.data());
        detail::reduce_outputs(natoms, first, neigh, rij, nconfigs, config.data(), atom_energy.data(),
                               pair_grad.data(), energies, forces, virial);
    }

    const ParameterLayout lay = parameter_layout(m);
    const std::int64_t P = lay.n_ctilde + lay.n_crad;
    Columns cols;
    std::int64_t next = 0;
    for (const auto& sp : m.species_) {
        cols.term.push_back(next);
        next += std::int64_t(sp.term_leaf.size()) * sp.ndensity;
        cols.rank1.push_back(next);
        next += std::int64_t(sp.w1.size());
    }
    cols.crad = next;
    cols.total = next + lay.n_crad;
    cols.crad_offsets = lay.crad_offsets;

    int nf_max = 0;
    for (const auto& b : m.bonds_) nf_max = std::max(nf_max, b.nfunctions());
    std::size_t max_nodes = 0, max_terms = 0;
    for (const auto& s : m.species_) {
        max_nodes = std::max(max_nodes, s.nodes.size());
        max_terms = std::max(max_terms, s.term_leaf.size());
    }
    const std::size_t nnode = std::size_t(m.nleaf_) + max_nodes;

    ThreadTeam team(options.num_threads);
    team.run([&](int tid) {
        Work ws;
        ws.vb.resize(nnode);
        ws.ab.resize(nnode);
        ws.a1b.resize(std::size_t(m.nel_) * m.nbasis_);
        ws.Z.resize(std::size_t(m.nel_) * lm_count(m.lmax_) * m.nbasis_);
        ws.count.resize(m.nel_);
        ws.reb.resize(max_terms);
        ws.thetab.resize(max_terms);
        ws.vtr.resize(nnode * K);
        ws.vti.resize(nnode * K);
        ws.atr.resize(nnode * K);
        ws.ati.resize(nnode * K);
        ws.a1t.resize(std::size_t(m.nel_) * m.nbasis_ * K);
        ws.ret.resize(max_terms * K);
        ws.G.resize(std::size_t(K) * cols.total);
        for (auto* v : {&ws.rhob, &ws.dF, &ws.F2, &ws.rhobar}) v->resize(8);
        ws.rhot.resize(8 * K);
        ws.rhobart.resize(8 * K);
        std::vector<double> buf;
#ifdef FORCEFIT_HAVE_OPENMP
#pragma omp for schedule(dynamic)
#endif
        for (std::int64_t c = 0; c < nconfigs; ++c) {
            if (team.failed(tid)) continue;
            const std::int64_t a0 = atom_offset[c], na = atom_offset[c + 1] - a0;
            const bool done = team.attempt(tid, [&] {
                buf.assign(std::size_t(ROW_FORCES + 3 * na) * cols.total, 0.0);
                for (std::int64_t i = a0; i < a0 + na; ++i)
                    atom(m, species[i], species, first[i], first[i + 1], neigh, rij, i - a0, a0, options.splines,
                         nf_max, cols, ws, buf.data());
            });
            if (!done) continue;
            // slot layout -> ctilde (ParamRef) + crad, row by row
            for (std::int64_t row = 0; row < ROW_FORCES + 3 * na; ++row) {
                double* out = row == 0 ? jac_energy + c * P
                              : row < ROW_FORCES ? jac_virial + (6 * c + row - ROW_VIRIAL) * P
                                                 : jac_forces + (3 * a0 + row - ROW_FORCES) * P;
                const double* src = buf.data() + row * cols.total;
                double* o = out;
                for (int mu = 0; mu < m.nel_; ++mu) {
                    const auto& sp = m.species_[mu];
                    const int nd = sp.ndensity;
                    for (std::size_t r = 0; r < sp.refs.size(); ++r) {
                        const auto& ref = sp.refs[r];
                        const double* s =
                            src + (ref.kind == 0 ? cols.term[mu] : cols.rank1[mu]) + std::int64_t(ref.slot) * nd;
                        for (int p = 0; p < nd; ++p) o[r * nd + p] = ref.sign * s[p];
                    }
                    o += sp.refs.size() * nd;
                }
                std::copy(src + cols.crad, src + cols.total, out + lay.n_ctilde);
            }
        }
    });
}

void parameter_jacobian(const CtildeModel& model, std::int64_t natoms, const std::int32_t* species,
                        const std::int64_t* first, const std::int64_t* neigh, const double* rij,
                        std::int64_t nconfigs, const std::int64_t* atom_offset, const JacobianOptions& options,
                        double* energies, double* forces, double* virial, double* jac_energy, double* jac_forces,
                        double* jac_virial) {
    CtildeJacobianKernel::run(model, natoms, species, first, neigh, rij, nconfigs, atom_offset, options, energies,
                              forces, virial, jac_energy, jac_forces, jac_virial);
}

}  // namespace forcefit::ace
