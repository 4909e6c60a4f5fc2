// Parameter vector-Jacobian product of the Ctilde ACE model (see ctilde_gradients.hpp for the maths).
//
// Per atom everything is evaluated in dual numbers x = x.a + eps x.b, eps^2 = 0, with the pair vectors
// r_ij + eps t_ij: the leaves A carry their tangents, the product DAG and the densities are swept forward
// in dual arithmetic, the embedding derivative dF/drho becomes dual through F''.  The ordinary reverse sweep
// run in the same arithmetic, seeded with sigma = 1 - eps w (w = dL/dE of the atom's configuration), leaves
// at every parameter the dual number dE/dtheta - eps (w dE/dtheta - d/dtheta dE/deps); minus its eps part
// is the gradient of w E - dE/deps.  Only parameter entry points are read: product terms (Re P A), rank-1
// slots (A1) and the radial coefficients (through abar_A . Y g_k).  Energies, forces and virials come from
// the plain evaluator on the same radial path.
#include "forcefit/ace/ctilde_gradients.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ctilde_internal.hpp"
#include "forcefit/error.hpp"
#include "forcefit/parallel.hpp"

namespace forcefit::ace {

namespace {

struct Dual {
    double a = 0.0, b = 0.0;
};

// complex dual number: value (ar, ai) + eps (br, bi)
struct DualC {
    double ar = 0.0, ai = 0.0, br = 0.0, bi = 0.0;
};

inline DualC mul(const DualC& x, const DualC& y) {
    return {x.ar * y.ar - x.ai * y.ai, x.ar * y.ai + x.ai * y.ar,
            x.ar * y.br - x.ai * y.bi + x.br * y.ar - x.bi * y.ai,
            x.ar * y.bi + x.ai * y.br + x.br * y.ai + x.bi * y.ar};
}

inline void add_scaled(DualC& z, const Dual& s, const DualC& x) {  // z += s x
    z.ar += s.a * x.ar;
    z.ai += s.a * x.ai;
    z.br += s.a * x.br + s.b * x.ar;
    z.bi += s.a * x.bi + s.b * x.ai;
}

inline Dual re_mul(const DualC& x, const DualC& y) {
    return {x.ar * y.ar - x.ai * y.ai, x.ar * y.br - x.ai * y.bi + x.br * y.ar - x.bi * y.ai};
}

}  // namespace

namespace detail {

void reduce_outputs(std::int64_t natoms, const std::int64_t* first, const std::int64_t* neigh, const double* rij,
                    std::int64_t nconfigs, const std::int64_t* config, const double* atom_energy,
                    const double* pair_grad, double* energies, double* forces, double* virial) {
    std::fill(energies, energies + nconfigs, 0.0);
    for (std::int64_t i = 0; i < natoms; ++i) energies[config[i]] += atom_energy[i];
    std::vector<double> full(9 * std::size_t(nconfigs));
    tally_pair_gradients(natoms, first, neigh, rij, pair_grad, config, nconfigs, forces, full.data());
    // Voigt xx yy zz yz xz xy, off-diagonals symmetrised
    for (std::int64_t c = 0; c < nconfigs; ++c) {
        const double* w = &full[9 * c];
        double* v = virial + 6 * c;
        v[0] = w[0];
        v[1] = w[4];
        v[2] = w[8];
        v[3] = 0.5 * (w[5] + w[7]);
        v[4] = 0.5 * (w[2] + w[6]);
        v[5] = 0.5 * (w[1] + w[3]);
    }
}

std::vector<std::int64_t> check_batch(int nelements, std::int64_t natoms, const std::int32_t* species,
                                      const std::int64_t* first, const std::int64_t* neigh, std::int64_t nconfigs,
                                      const std::int64_t* atom_offset, const std::string& who) {
    if (nconfigs < 0 || atom_offset[0] != 0 || atom_offset[nconfigs] != natoms)
        throw InputError(who + ": atom_offset must run from 0 to the number of atoms");
    for (std::int64_t c = 0; c < nconfigs; ++c)
        if (atom_offset[c + 1] < atom_offset[c]) throw InputError(who + ": atom_offset must be non-decreasing");
    if (natoms < 0 || first[0] != 0) throw InputError(who + ": invalid neighbour list (first[0] != 0)");
    for (std::int64_t i = 0; i < natoms; ++i) {
        if (species[i] < 0 || species[i] >= nelements)
            throw InputError(who + ": atom " + std::to_string(i) + " has species index " +
                             std::to_string(species[i]) + " out of range");
        if (first[i + 1] < first[i]) throw InputError(who + ": first[] must be non-decreasing");
    }
    for (std::int64_t p = 0; p < first[natoms]; ++p)
        if (neigh[p] < 0 || neigh[p] >= natoms)
            throw InputError(who + ": neighbour index " + std::to_string(neigh[p]) + " out of range");
    std::vector<std::int64_t> config(natoms);
    for (std::int64_t c = 0; c < nconfigs; ++c)
        for (std::int64_t i = atom_offset[c]; i < atom_offset[c + 1]; ++i) config[i] = c;
    for (std::int64_t i = 0; i < natoms; ++i)
        for (std::int64_t p = first[i]; p < first[i + 1]; ++p)
            if (config[neigh[p]] != config[i])
                throw InputError(who + ": atom " + std::to_string(i) + " has a neighbour in another configuration");
    return config;
}

}  // namespace detail

using detail::reduce_outputs;

class CtildeGradientKernel {
public:
    static ParameterLayout layout(const CtildeModel& m) {
        ParameterLayout out;
        out.function_first.assign(1, 0);
        out.ctilde_offsets.assign(1, 0);
        for (const auto& sp : m.species_) {
            for (const std::int32_t nms : sp.function_nms)
                out.ctilde_offsets.push_back(out.ctilde_offsets.back() + std::int64_t(nms) * sp.ndensity);
            out.function_first.push_back(out.function_first.back() + std::int64_t(sp.function_nms.size()));
        }
        out.crad_offsets.assign(1, 0);
        for (const auto& b : m.bonds_)
            out.crad_offsets.push_back(out.crad_offsets.back() + std::int64_t(b.spec().crad.size()));
        out.n_ctilde = out.ctilde_offsets.back();
        out.n_crad = out.crad_offsets.back();
        return out;
    }

    static void get(const CtildeModel& m, double* ctilde, double* crad) {
        for (const auto& sp : m.species_) ctilde = std::copy(sp.ctildes.begin(), sp.ctildes.end(), ctilde);
        for (const auto& b : m.bonds_) crad = std::copy(b.spec().crad.begin(), b.spec().crad.end(), crad);
    }

    static void set(CtildeModel& m, const double* ctilde, const double* crad, bool rebuild_splines) {
        // check first, so that a refused update leaves the model as it was
        const double* c = ctilde;
        for (int mu = 0; mu < m.nel_; ++mu) {
            const auto& sp = m.species_[mu];
            const int nd = sp.ndensity;
            for (std::size_t r = 0; r < sp.refs.size(); ++r)
                for (int p = 0; p < nd; ++p) {
                    const double v = c[r * nd + p];
                    if (!std::isfinite(v)) throw InputError("ACE set_parameters: non-finite ctilde");
                    if (sp.refs[r].kind < 0 && v != 0.0)
                        throw InputError("ACE set_parameters: a ctilde of species " + std::to_string(mu) +
                                         " that was zero at construction has no product in the model; "
                                         "build it with keep_zero_terms=true");
                }
            c += sp.refs.size() * nd;
        }
        for (int mu = 0; mu < m.nel_; ++mu) {
            auto& sp = m.species_[mu];
            const int nd = sp.ndensity;
            std::copy(ctilde, ctilde + sp.ctildes.size(), sp.ctildes.begin());
            std::fill(sp.term_coef.begin(), sp.term_coef.end(), 0.0);
            std::fill(sp.w1.begin(), sp.w1.end(), 0.0);
            for (std::size_t r = 0; r < sp.refs.size(); ++r) {
                const auto& ref = sp.refs[r];
                if (ref.kind < 0) continue;
                double* dst = (ref.kind == 0 ? sp.term_coef.data() : sp.w1.data()) + std::size_t(ref.slot) * nd;
                for (int p = 0; p < nd; ++p) dst[p] += ref.sign * ctilde[r * nd + p];
            }
            ctilde += sp.ctildes.size();
        }
        for (auto& b : m.bonds_) {
            const std::size_t n = b.spec().crad.size();
            for (std::size_t k = 0; k < n; ++k)
                if (!std::isfinite(crad[k])) throw InputError("ACE set_parameters: non-finite crad");
            b.set_crad(crad, rebuild_splines);
            crad += n;
        }
    }

    static void vjp(const CtildeModel& m, std::int64_t natoms, const std::int32_t* species,
                    const std::int64_t* first, const std::int64_t* neigh, const double* rij, std::int64_t nconfigs,
                    const std::int64_t* atom_offset, const double* dL_dE, const double* dL_dF,
                    const double* dL_dW, const VjpOptions& options, double* energies, double* forces,
                    double* virial, double* grad_ctilde, double* grad_crad);

private:
    struct Accumulator {
        std::vector<std::vector<double>> term, rank1;  // per species: [terms][nd], [rank-1 slots][nd]
        std::vector<double> crad;                      // flat crad layout
    };
    struct Work {
        std::vector<DualC> val, adj;
        std::vector<Dual> a1;
        std::vector<double> rad, drad, rdot;
        std::vector<cdouble> y, ydot, dy;
        std::vector<int> mu;
        Dual rho[8], rhobar[8];
    };

    static void atom(const CtildeModel& m, int mu_i, const std::int32_t* species, std::int64_t begin,
                     std::int64_t end, const std::int64_t* neigh, const double* rij, const double* delta_i,
                     const double* dL_dF, const double* omega, double w, bool splines, int nf, Work& ws,
                     const std::vector<std::int64_t>& crad_offsets, Accumulator& acc);
};

void CtildeGradientKernel::atom(const CtildeModel& m, int mu_i, const std::int32_t* species, std::int64_t begin,
                                std::int64_t end, const std::int64_t* neigh, const double* rij,
                                const double* delta_i, const double* dL_dF, const double* omega, double w,
                                bool splines, int nf, Work& ws, const std::vector<std::int64_t>& crad_offsets,
                                Accumulator& acc) {
    const auto& sp = m.species_[mu_i];
    const int nd = sp.ndensity, nlm = lm_count(m.lmax_), nel = m.nel_, nbasis = m.nbasis_;
    const int nlm_full = m.nlm_, nradmax = m.nradmax_, nleaf = m.nleaf_;
    std::fill(ws.val.begin(), ws.val.begin() + nleaf, DualC{});
    std::fill(ws.a1.begin(), ws.a1.end(), Dual{});
    Dual rho_core, dmin{m.cutoff_, 0.0};
    double dcut_in_min = 0.0;
    int kmin = -1;

    const std::size_t kmax = std::size_t(end - begin);
    if (ws.rdot.size() < kmax) {
        ws.rad.resize(kmax * nf);
        ws.drad.resize(kmax * nf);
        ws.rdot.resize(kmax);
        ws.y.resize(kmax * nlm);
        ws.ydot.resize(kmax * nlm);
        ws.mu.resize(kmax);
    }
    int k = 0;
    for (std::int64_t p = begin; p < end; ++p) {
        const std::int64_t j = neigh[p];
        const int mu_j = species[j];
        const double* d = rij + 3 * p;
        const double r = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        const BondRadial& bond = m.bonds_[mu_i * nel + mu_j];
        if (r >= bond.rcut()) continue;
        if (!(r > 0.0)) throw InputError("ACE: a neighbour at zero distance");
        // tangent of r_ij: delta_j - delta_i + Omega r_ij
        double t[3];
        for (int c = 0; c < 3; ++c) {
            t[c] = (dL_dF ? dL_dF[3 * j + c] - delta_i[c] : 0.0);
            if (omega) t[c] += omega[3 * c] * d[0] + omega[3 * c + 1] * d[1] + omega[3 * c + 2] * d[2];
        }
        const double u[3] = {d[0] / r, d[1] / r, d[2] / r};
        const double rdot = u[0] * t[0] + u[1] * t[1] + u[2] * t[2];
        double* rad = &ws.rad[std::size_t(k) * nf];
        double* drad = &ws.drad[std::size_t(k) * nf];
        if (splines) bond.spline(r, rad, drad);
        else bond.analytic(r, rad, drad);
        cdouble* y = &ws.y[std::size_t(k) * nlm];
        cdouble* yd = &ws.ydot[std::size_t(k) * nlm];
        m.ylm_.compute(u, y, ws.dy.data());
        for (int lm = 0; lm < nlm; ++lm) {
            const cdouble* g = &ws.dy[3 * lm];
            yd[lm] = (g[0] * t[0] + g[1] * t[1] + g[2] * t[2]) / r;
        }
        ws.rdot[k] = rdot;
        ws.mu[k] = mu_j;

        Dual* a1 = &ws.a1[std::size_t(mu_j) * nbasis];
        for (int q = 0; q < nbasis; ++q) {
            a1[q].a += rad[q];
            a1[q].b += drad[q] * rdot;
        }
        const int L1 = bond.lmax() + 1;
        DualC* A = ws.val.data() + std::size_t(mu_j) * nradmax * nlm_full;
        for (int n = 0; n < bond.nradial(); ++n)
            for (int l = 0; l < L1; ++l) {
                const double R = rad[nbasis + n * L1 + l], Rd = drad[nbasis + n * L1 + l] * rdot;
                DualC* Anl = A + std::size_t(n) * nlm_full + l * l + l;
                const cdouble* yl = y + lm_index(l, 0);
                const cdouble* ydl = yd + lm_index(l, 0);
                for (int mm = 0; mm <= l; ++mm) {
                    Anl[mm].ar += R * yl[mm].real();
                    Anl[mm].ai += R * yl[mm].imag();
                    Anl[mm].br += R * ydl[mm].real() + Rd * yl[mm].real();
                    Anl[mm].bi += R * ydl[mm].imag() + Rd * yl[mm].imag();
                }
            }
        const int ic = bond.nfunctions() - 1;
        rho_core.a += rad[ic];
        rho_core.b += drad[ic] * rdot;
        if (m.zbl_) {
            const double dz = r - (bond.spec().rcut_in - bond.spec().dcut_in);
            if (dz < dmin.a) {
                dmin = {dz, rdot};
                kmin = k;
                dcut_in_min = bond.spec().dcut_in;
            }
        }
        ++k;
    }
    const int nneigh = k;

    // negative-m leaves, A_{l,-m} = (-1)^m conj(A_lm), value and tangent alike
    for (int blk = 0; blk < nel * nradmax; ++blk) {
        DualC* An = ws.val.data() + std::size_t(blk) * nlm_full;
        for (int l = 1; l <= m.lmax_; ++l)
            for (int mm = 1; mm <= l; ++mm) {
                const DualC a = An[l * l + l + mm];
                const double s = (mm & 1) ? -1.0 : 1.0;
                An[l * l + l - mm] = {s * a.ar, -s * a.ai, s * a.br, -s * a.bi};
            }
    }

    // forward sweep
    DualC* val = ws.val.data();
    const std::size_t ninternal = sp.nodes.size();
    for (std::size_t q = 0; q < ninternal; ++q)
        val[nleaf + q] = mul(val[sp.nodes[q].left], val[sp.nodes[q].right]);
    Dual* rho = ws.rho;
    for (int p = 0; p < nd; ++p) rho[p] = Dual{};
    for (std::size_t t = 0; t < sp.a1_index.size(); ++t) {
        const Dual a = ws.a1[sp.a1_index[t]];
        for (int p = 0; p < nd; ++p) {
            rho[p].a += sp.w1[t * nd + p] * a.a;
            rho[p].b += sp.w1[t * nd + p] * a.b;
        }
    }
    const std::size_t ngroups = sp.group_prefix.size();
    for (std::size_t gi = 0; gi < ngroups; ++gi) {
        const DualC P = val[sp.group_prefix[gi]];
        for (std::int32_t t = sp.group_first[gi]; t < sp.group_first[gi + 1]; ++t) {
            const Dual re = re_mul(P, val[sp.term_leaf[t]]);
            const double* c = &sp.term_coef[std::size_t(t) * nd];
            for (int p = 0; p < nd; ++p) {
                rho[p].a += c[p] * re.a;
                rho[p].b += c[p] * re.b;
            }
        }
    }

    // dE/drho_p = F'(rho_p) fcut as dual numbers, then seeded with sigma = 1 - eps w
    const EmbeddingSpec& emb = m.emb_[mu_i];
    Dual fcut{1.0, 0.0};
    if (m.zbl_) {
        if (kmin >= 0) {
            double f, df;
            cutoff_poly(dcut_in_min - dmin.a, dcut_in_min, dcut_in_min, f, df);
            fcut = {f, -df * dmin.b};
        }
    } else if (rho_core.a >= emb.rho_core_cutoff) {
        fcut = {0.0, 0.0};
    } else if (rho_core.a > emb.rho_core_cutoff - emb.drho_core_cutoff) {
        double f, df;
        cutoff_poly(rho_core.a, emb.rho_core_cutoff, emb.drho_core_cutoff, f, df);
        fcut = {f, df * rho_core.b};
    }
    Dual* rhobar = ws.rhobar;
    for (int p = 0; p < nd; ++p) {
        double f, df;
        const double mexp = emb.fs_parameters[2 * p + 1], pre = emb.fs_parameters[2 * p];
        embedding_value(emb.kind, rho[p].a, mexp, f, df);
        const Dual dF{pre * df, pre * embedding_second(emb.kind, rho[p].a, mexp) * rho[p].b};
        const Dual q{dF.a * fcut.a, dF.a * fcut.b + dF.b * fcut.a};
        rhobar[p] = {q.a, q.b - w * q.a};
    }

    // rank-1 coefficients: dE/dw1 = rhobar A1
    std::vector<double>& g1 = acc.rank1[mu_i];
    for (std::size_t t = 0; t < sp.a1_index.size(); ++t) {
        const Dual a = ws.a1[sp.a1_index[t]];
        for (int p = 0; p < nd; ++p) g1[t * nd + p] -= rhobar[p].a * a.b + rhobar[p].b * a.a;
    }

    // product terms: dE/dc = rhobar Re(P A); adjoints of P and A
    DualC* adj = ws.adj.data();
    std::fill(adj, adj + nleaf + ninternal, DualC{});
    std::vector<double>& gt = acc.term[mu_i];
    for (std::size_t gi = 0; gi < ngroups; ++gi) {
        const std::int32_t pid = sp.group_prefix[gi];
        const DualC P = val[pid];
        DualC accP;
        for (std::int32_t t = sp.group_first[gi]; t < sp.group_first[gi + 1]; ++t) {
            const std::int32_t leaf = sp.term_leaf[t];
            const DualC& A = val[leaf];
            const Dual re = re_mul(P, A);
            const double* c = &sp.term_coef[std::size_t(t) * nd];
            double* gtp = &gt[std::size_t(t) * nd];
            Dual theta;
            for (int p = 0; p < nd; ++p) {
                gtp[p] -= rhobar[p].a * re.b + rhobar[p].b * re.a;
                theta.a += rhobar[p].a * c[p];
                theta.b += rhobar[p].b * c[p];
            }
            add_scaled(adj[leaf], theta, P);
            add_scaled(accP, theta, A);
        }
        DualC& ap = adj[pid];
        ap.ar += accP.ar;
        ap.ai += accP.ai;
        ap.br += accP.br;
        ap.bi += accP.bi;
    }

    // reverse sweep over the DAG
    for (std::size_t q = ninternal; q-- > 0;) {
        const DualC z = adj[nleaf + q];
        const auto& nd_q = sp.nodes[q];
        const DualC dl = mul(z, val[nd_q.right]), dr = mul(z, val[nd_q.left]);
        DualC& al = adj[nd_q.left];
        DualC& ar = adj[nd_q.right];
        al.ar += dl.ar;
        al.ai += dl.ai;
        al.br += dl.br;
        al.bi += dl.bi;
        ar.ar += dr.ar;
        ar.ai += dr.ai;
        ar.br += dr.br;
        ar.bi += dr.bi;
    }
    for (int blk = 0; blk < nel * nradmax; ++blk) {
        DualC* Gn = adj + std::size_t(blk) * nlm_full;
        for (int l = 1; l <= m.lmax_; ++l)
            for (int mm = 1; mm <= l; ++mm) {
                const DualC a = Gn[l * l + l - mm];
                const double s = (mm & 1) ? -1.0 : 1.0;
                DualC& g = Gn[l * l + l + mm];
                g.ar += s * a.ar;
                g.ai -= s * a.ai;
                g.br += s * a.br;
                g.bi -= s * a.bi;
            }
    }

    // radial coefficients: dE/dcrad[n][l][k] = sum_j Re(sum_m abar_nlm Y_lm) g_k(r_ij)
    for (int kk = 0; kk < nneigh; ++kk) {
        const int mu_j = ws.mu[kk];
        const int b = mu_i * nel + mu_j;
        const BondRadial& bond = m.bonds_[b];
        const int L1 = bond.lmax() + 1, nb = bond.spec().nradbase;
        const double* rad = &ws.rad[std::size_t(kk) * nf];
        const double* drad = &ws.drad[std::size_t(kk) * nf];
        const double rdot = ws.rdot[kk];
        const cdouble* y = &ws.y[std::size_t(kk) * nlm];
        const cdouble* yd = &ws.ydot[std::size_t(kk) * nlm];
        const DualC* abar = adj + std::size_t(mu_j) * nradmax * nlm_full;
        double* gc = acc.crad.data() + crad_offsets[b];
        for (int n = 0; n < bond.nradial(); ++n)
            for (int l = 0; l < L1; ++l) {
                const DualC* an = abar + std::size_t(n) * nlm_full + l * l + l;
                const cdouble* yl = y + lm_index(l, 0);
                const cdouble* ydl = yd + lm_index(l, 0);
                double ha = 0.0, hb = 0.0;
                for (int mm = 0; mm <= l; ++mm) {
                    const double yr = yl[mm].real(), yi = yl[mm].imag();
                    ha += an[mm].ar * yr - an[mm].ai * yi;
                    hb += an[mm].ar * ydl[mm].real() - an[mm].ai * ydl[mm].imag() + an[mm].br * yr -
                          an[mm].bi * yi;
                }
                double* gnl = gc + std::size_t(n * L1 + l) * nb;
                for (int q = 0; q < nb; ++q) gnl[q] -= ha * drad[q] * rdot + hb * rad[q];
            }
    }
}

void CtildeGradientKernel::vjp(const CtildeModel& m, std::int64_t natoms, const std::int32_t* species,
                               const std::int64_t* first, const std::int64_t* neigh, const double* rij,
                               std::int64_t nconfigs, const std::int64_t* atom_offset, const double* dL_dE,
                               const double* dL_dF, const double* dL_dW, const VjpOptions& options,
                               double* energies, double* forces, double* virial, double* grad_ctilde,
                               double* grad_crad) {
    for (int mu = 0; mu < m.nel_; ++mu)
        for (const auto& ref : m.species_[mu].refs)
            if (ref.kind < 0)
                throw InputError("ACE parameter_vjp: the model dropped zero ctildes; build it with keep_zero_terms=true");
    const std::vector<std::int64_t> config =
        detail::check_batch(m.nel_, natoms, species, first, neigh, nconfigs, atom_offset, "ACE parameter_vjp");
    ComputeOptions copt;
    copt.forces = true;
    copt.splines = options.splines;
    copt.num_threads = options.num_threads;

    if (options.outputs) {
        std::vector<double> atom_energy(natoms), pair_grad(3 * std::size_t(first[natoms]));
        m.compute_pairs(natoms, species, first, natoms, species, neigh, rij, copt, atom_energy.data(),
                        pair_grad.data());
        reduce_outputs(natoms, first, neigh, rij, nconfigs, config.data(), atom_energy.data(), pair_grad.data(),
                       energies, forces, virial);
    }
    // all adjoints zero (callers after energies, forces and virials only): the gradient is zero
    const ParameterLayout lay = layout(m);
    bool any_adjoint = false;
    for (std::int64_t c = 0; dL_dE && c < nconfigs && !any_adjoint; ++c) any_adjoint = dL_dE[c] != 0.0;
    for (std::int64_t q = 0; dL_dF && q < 3 * natoms && !any_adjoint; ++q) any_adjoint = dL_dF[q] != 0.0;
    for (std::int64_t q = 0; dL_dW && q < 6 * nconfigs && !any_adjoint; ++q) any_adjoint = dL_dW[q] != 0.0;
    if (!any_adjoint) {
        std::fill(grad_ctilde, grad_ctilde + lay.n_ctilde, 0.0);
        std::fill(grad_crad, grad_crad + lay.n_crad, 0.0);
        return;
    }

    // Omega_c: the virial adjoint as a symmetric matrix (off-diagonal Voigt entries split in halves)
    std::vector<double> omega(dL_dW ? 9 * std::size_t(nconfigs) : 0);
    for (std::int64_t c = 0; dL_dW && c < nconfigs; ++c) {
        const double* v = dL_dW + 6 * c;
        double* o = &omega[9 * c];
        o[0] = v[0], o[4] = v[1], o[8] = v[2];
        o[5] = o[7] = 0.5 * v[3];
        o[2] = o[6] = 0.5 * v[4];
        o[1] = o[3] = 0.5 * v[5];
    }

    int nf_max = 0;
    for (const auto& b : m.bonds_) nf_max = std::max(nf_max, b.nfunctions());
    std::size_t max_nodes = 0;
    for (const auto& s : m.species_) max_nodes = std::max(max_nodes, s.nodes.size());

    ThreadTeam team(options.num_threads);
    const int nthreads = team.size();
    std::vector<Accumulator> accs(nthreads);
    const double zero3[3] = {0.0, 0.0, 0.0};
    team.run([&](int tid) {
        Accumulator& acc = accs[tid];
        acc.term.resize(m.nel_);
        acc.rank1.resize(m.nel_);
        for (int mu = 0; mu < m.nel_; ++mu) {
            acc.term[mu].assign(m.species_[mu].term_leaf.size() * m.species_[mu].ndensity, 0.0);
            acc.rank1[mu].assign(m.species_[mu].w1.size(), 0.0);
        }
        acc.crad.assign(lay.n_crad, 0.0);
        Work ws;
        ws.val.resize(m.nleaf_ + max_nodes);
        ws.adj.resize(m.nleaf_ + max_nodes);
        ws.a1.resize(std::size_t(m.nel_) * m.nbasis_);
        ws.dy.resize(3 * std::size_t(lm_count(m.lmax_)));
#ifdef FORCEFIT_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
        for (std::int64_t i = 0; i < natoms; ++i) {
            if (team.failed(tid)) continue;
            const std::int64_t c = config[i];
            team.attempt(tid, [&] {
                atom(m, species[i], species, first[i], first[i + 1], neigh, rij, dL_dF ? dL_dF + 3 * i : zero3,
                     dL_dF, dL_dW ? &omega[9 * c] : nullptr, dL_dE ? dL_dE[c] : 0.0, options.splines, nf_max, ws,
                     lay.crad_offsets, acc);
            });
        }
    });

    // reduce in thread order, then scatter the merged slots back onto the input coefficients
    for (int t = 1; t < nthreads; ++t) {
        for (int mu = 0; mu < m.nel_; ++mu) {
            for (std::size_t q = 0; q < accs[0].term[mu].size(); ++q) accs[0].term[mu][q] += accs[t].term[mu][q];
            for (std::size_t q = 0; q < accs[0].rank1[mu].size(); ++q) accs[0].rank1[mu][q] += accs[t].rank1[mu][q];
        }
        for (std::int64_t q = 0; q < lay.n_crad; ++q) accs[0].crad[q] += accs[t].crad[q];
    }
    std::copy(accs[0].crad.begin(), accs[0].crad.end(), grad_crad);
    for (int mu = 0; mu < m.nel_; ++mu) {
        const auto& sp = m.species_[mu];
        const int nd = sp.ndensity;
        for (std::size_t r = 0; r < sp.refs.size(); ++r) {
            const auto& ref = sp.refs[r];
            const double* src = (ref.kind == 0 ? accs[0].term[mu].data() : accs[0].rank1[mu].data()) +
                                std::size_t(ref.slot) * nd;
            for (int p = 0; p < nd; ++p) grad_ctilde[r * nd + p] = ref.sign * src[p];
        }
        grad_ctilde += sp.refs.size() * nd;
    }
}

ParameterLayout parameter_layout(const CtildeModel& model) { return CtildeGradientKernel::layout(model); }

void get_parameters(const CtildeModel& model, double* ctilde, double* crad) {
    CtildeGradientKernel::get(model, ctilde, crad);
}

void set_parameters(CtildeModel& model, const double* ctilde, const double* crad, bool rebuild_splines) {
    CtildeGradientKernel::set(model, ctilde, crad, rebuild_splines);
}

void parameter_vjp(const CtildeModel& model, std::int64_t natoms, const std::int32_t* species,
                   const std::int64_t* first, const std::int64_t* neigh, const double* rij, std::int64_t nconfigs,
                   const std::int64_t* atom_offset, const double* dL_dE, const double* dL_dF, const double* dL_dW,
                   const VjpOptions& options, double* energies, double* forces, double* virial,
                   double* grad_ctilde, double* grad_crad) {
    CtildeGradientKernel::vjp(model, natoms, species, first, neigh, rij, nconfigs, atom_offset, dL_dE, dL_dF,
                              dL_dW, options, energies, forces, virial, grad_ctilde, grad_crad);
}

}  // namespace forcefit::ace
