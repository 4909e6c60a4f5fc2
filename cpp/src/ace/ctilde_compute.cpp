// Ctilde ACE energies, forces and virial on a CSR neighbour list (see ctilde_model.hpp).
// Threads: atoms are distributed over OpenMP threads, each with its own workspace; every thread writes
// dE_i/dr_ij into the slot of its own pairs, and one serial pass in pair order turns those into forces
// and the virial, so results do not depend on the thread count or schedule.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "forcefit/ace/ctilde_model.hpp"
#include "forcefit/error.hpp"
#include "forcefit/parallel.hpp"

namespace forcefit::ace {

namespace {

constexpr double kY00 = 1.0;  // Y_00 in python-ace's normalisation (see spherical_harmonics.hpp)

inline double re_mul(const cdouble& a, const cdouble& b) { return a.real() * b.real() - a.imag() * b.imag(); }

// rho_p += Re(P_g sum_t c_tp A_t) over the prefix groups; ND > 0 fixes the number of densities at
// compile time so the sums stay in registers (ND = 0: any, given by nd).
template <int ND>
void group_densities(std::size_t ngroups, const std::int32_t* prefix, const std::int32_t* first,
                     const std::int32_t* leaf, const double* coef, const cdouble* val, int nd, double* rho) {
    constexpr int kMax = 8;
    const int n = ND > 0 ? ND : nd;
    for (std::size_t gi = 0; gi < ngroups; ++gi) {
        double sr[kMax] = {0.0}, si[kMax] = {0.0};
        for (std::int32_t t = first[gi]; t < first[gi + 1]; ++t) {
            const double ar = val[leaf[t]].real(), ai = val[leaf[t]].imag();
            const double* c = coef + std::size_t(t) * n;
            for (int p = 0; p < n; ++p) {
                sr[p] += c[p] * ar;
                si[p] += c[p] * ai;
            }
        }
        const double pr = val[prefix[gi]].real(), pi = val[prefix[gi]].imag();
        for (int p = 0; p < n; ++p) rho[p] += pr * sr[p] - pi * si[p];
    }
}

// adjoints of the group sums: abar(P) += sum_t theta_t A_t, abar(A_t) += theta_t P, theta_t = sum_p dF_p c_tp
template <int ND>
void group_adjoints(std::size_t ngroups, const std::int32_t* prefix, const std::int32_t* first,
                    const std::int32_t* leaf, const double* coef, const cdouble* val, int nd, const double* dF,
                    cdouble* adj) {
    const int n = ND > 0 ? ND : nd;
    for (std::size_t gi = 0; gi < ngroups; ++gi) {
        const double pr = val[prefix[gi]].real(), pi = val[prefix[gi]].imag();
        double accr = 0.0, acci = 0.0;
        for (std::int32_t t = first[gi]; t < first[gi + 1]; ++t) {
            const double* c = coef + std::size_t(t) * n;
            double theta = 0.0;
            for (int p = 0; p < n; ++p) theta += dF[p] * c[p];
            const std::int32_t a = leaf[t];
            accr += theta * val[a].real();
            acci += theta * val[a].imag();
            adj[a] += cdouble(theta * pr, theta * pi);
        }
        adj[prefix[gi]] += cdouble(accr, acci);
    }
}

}  // namespace

struct CtildeModel::Workspace {
    std::vector<cdouble> val, adj;     // [nleaf + nodes]
    std::vector<double> a1, w1;        // [nel * nbasis]
    std::vector<double> rad, drad;     // [neighbours][nf]
    std::vector<cdouble> y;            // [neighbours][nlm]
    std::vector<double> r, rhat;       // [neighbours], [neighbours][3]
    std::vector<int> mu;               // [neighbours]
    std::vector<std::int64_t> pair;    // [neighbours] -> pair index
    std::vector<double> rho, drho;     // [ndensity]
    std::vector<cdouble> gr, gd;       // [nlm] per-neighbour contractions over n
    int nf = 0;

    void reserve_neighbours(std::size_t k, int nfmax, int nlm) {
        if (r.size() >= k) return;
        rad.resize(k * nfmax);
        drad.resize(k * nfmax);
        y.resize(k * nlm);
        r.resize(k);
        rhat.resize(3 * k);
        mu.resize(k);
        pair.resize(k);
    }
};

void CtildeModel::compute_atom(std::int64_t i, int mu_i, const std::int32_t* species, std::int64_t begin,
                               std::int64_t end, const std::int64_t* neigh, const double* rij,
                               const ComputeOptions& opt, Workspace& ws, double& energy, double* pair_grad) const {
    const Species& sp = species_[mu_i];
    const int nd = sp.ndensity, nlm = lm_count(lmax_), nf = ws.nf;  // nlm: harmonics with m >= 0
    const std::size_t nnode = std::size_t(nleaf_) + sp.nodes.size();
    cdouble* val = ws.val.data();
    std::fill(val, val + nleaf_, cdouble(0.0, 0.0));
    std::fill(ws.a1.begin(), ws.a1.end(), 0.0);
    double rho_core = 0.0;
    // ZBL mode: the ACE energy hands over to the pair repulsion as the nearest neighbour enters the inner
    // cutoff, measured by d = r - (rcut_in - dcut_in) (python-ace's "transition coordinate")
    double dmin = cutoff_, dcut_in_min = 0.0;
    int kmin = -1;

    // ---- neighbours: radial functions, harmonics, A and A1
    ws.reserve_neighbours(std::size_t(end - begin), nf, nlm);
    int k = 0;
    for (std::int64_t p = begin; p < end; ++p) {
        const std::int64_t j = neigh[p];
        const int mu_j = species[j];
        const double* d = rij + 3 * p;
        const double r = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        const BondRadial& bond = bonds_[mu_i * nel_ + mu_j];
        if (r >= bond.rcut()) continue;
        if (!(r > 0.0))
            throw InputError("ACE: atom " + std::to_string(i) + " has a neighbour at zero distance");
        double* rad = &ws.rad[std::size_t(k) * nf];
        double* drad = &ws.drad[std::size_t(k) * nf];
        if (opt.splines) bond.spline(r, rad, drad);
        else bond.analytic(r, rad, drad);
        double* u = &ws.rhat[3 * k];
        u[0] = d[0] / r;
        u[1] = d[1] / r;
        u[2] = d[2] / r;
        cdouble* y = &ws.y[std::size_t(k) * nlm];
        ylm_.compute(u, y, nullptr);  // gradients come from ladder relations in the force loop
        ws.r[k] = r;
        ws.mu[k] = mu_j;
        ws.pair[k] = p;

        double* a1 = &ws.a1[std::size_t(mu_j) * nbasis_];
        for (int q = 0; q < nbasis_; ++q) a1[q] += rad[q] * kY00;
        const int L1 = bond.lmax() + 1;
        const double* R = rad + nbasis_;
        cdouble* A = val + std::size_t(mu_j) * nradmax_ * nlm_;
        for (int n = 0; n < bond.nradial(); ++n) {
            cdouble* An = A + std::size_t(n) * nlm_;
            for (int l = 0; l < L1; ++l) {
                const double Rnl = R[n * L1 + l];
                cdouble* Anl = An + l * l + l;
                const cdouble* yl = y + lm_index(l, 0);
                for (int m = 0; m <= l; ++m) Anl[m] += Rnl * yl[m];
            }
        }
        rho_core += rad[bond.nfunctions() - 1];  // bonds may differ in size: the core is last of its own
        if (zbl_) {
            const double dz = r - (bond.spec().rcut_in - bond.spec().dcut_in);
            if (dz < dmin) {
                dmin = dz;
                kmin = k;
                dcut_in_min = bond.spec().dcut_in;
            }
        }
        ++k;
    }
    const int nneigh = k;

    // negative-m leaves: A_{l,-m} = (-1)^m conj(A_lm)
    for (int blk = 0; blk < nel_ * nradmax_; ++blk) {
        cdouble* An = val + std::size_t(blk) * nlm_;
        for (int l = 1; l <= lmax_; ++l)
            for (int m = 1; m <= l; ++m) {
                const cdouble a = An[l * l + l + m];
                An[l * l + l - m] = (m & 1) ? cdouble(-a.real(), a.imag()) : std::conj(a);
            }
    }

    // ---- forward sweep over the product DAG and the densities
    const std::size_t ninternal = sp.nodes.size();
    const auto* nodes = sp.nodes.data();
    double* v = reinterpret_cast<double*>(val);  // complex<double> is layout-compatible with double[2]
    double* vq = v + 2 * std::size_t(nleaf_);
    for (std::size_t q = 0; q < ninternal; ++q) {
        const double* a = v + 2 * std::size_t(nodes[q].left);
        const double* b = v + 2 * std::size_t(nodes[q].right);
        vq[2 * q] = a[0] * b[0] - a[1] * b[1];
        vq[2 * q + 1] = a[0] * b[1] + a[1] * b[0];
    }
    double* rho = ws.rho.data();
    std::fill(rho, rho + nd, 0.0);
    for (std::size_t t = 0; t < sp.a1_index.size(); ++t) {
        const double a = ws.a1[sp.a1_index[t]];
        for (int p = 0; p < nd; ++p) rho[p] += sp.w1[t * nd + p] * a;
    }
    const std::size_t ngroups = sp.group_prefix.size();
    const std::int32_t* gfirst = sp.group_first.data();
    const std::int32_t* tleaf = sp.term_leaf.data();
    const double* tcoef = sp.term_coef.data();
    const std::int32_t* gprefix = sp.group_prefix.data();
    if (nd == 1) group_densities<1>(ngroups, gprefix, gfirst, tleaf, tcoef, val, nd, rho);
    else if (nd == 2) group_densities<2>(ngroups, gprefix, gfirst, tleaf, tcoef, val, nd, rho);
    else group_densities<0>(ngroups, gprefix, gfirst, tleaf, tcoef, val, nd, rho);

    // ---- embedding and the core-repulsion energy cutoff
    const EmbeddingSpec& emb = emb_[mu_i];
    double F = 0.0;
    double* dF = ws.drho.data();
    for (int p = 0; p < nd; ++p) {
        double f, df;
        embedding_value(emb.kind, rho[p], emb.fs_parameters[2 * p + 1], f, df);
        F += emb.fs_parameters[2 * p] * f;
        dF[p] = emb.fs_parameters[2 * p] * df;
    }
    double fcut = 1.0, dfcut = 0.0, dE_dcore, dE_drmin = 0.0;
    if (zbl_) {
        if (kmin >= 0) {
            cutoff_poly(dcut_in_min - dmin, dcut_in_min, dcut_in_min, fcut, dfcut);
            dfcut = -dfcut;  // d fcut / d r_min
        }
        energy = E0_[mu_i] + F * fcut + rho_core * (1.0 - fcut);
        dE_dcore = 1.0 - fcut;
        dE_drmin = (F - rho_core) * dfcut;
    } else {
        if (rho_core >= emb.rho_core_cutoff) {
            fcut = 0.0;
        } else if (rho_core > emb.rho_core_cutoff - emb.drho_core_cutoff) {
            cutoff_poly(rho_core, emb.rho_core_cutoff, emb.drho_core_cutoff, fcut, dfcut);
        }
        energy = E0_[mu_i] + F * fcut + rho_core;
        dE_dcore = F * dfcut + 1.0;
    }
    if (!opt.forces) return;
    for (int p = 0; p < nd; ++p) dF[p] *= fcut;

    // ---- reverse sweep
    cdouble* adj = ws.adj.data();
    std::fill(adj, adj + nnode, cdouble(0.0, 0.0));
    if (nd == 1) group_adjoints<1>(ngroups, gprefix, gfirst, tleaf, tcoef, val, nd, dF, adj);
    else if (nd == 2) group_adjoints<2>(ngroups, gprefix, gfirst, tleaf, tcoef, val, nd, dF, adj);
    else group_adjoints<0>(ngroups, gprefix, gfirst, tleaf, tcoef, val, nd, dF, adj);
    double* g = reinterpret_cast<double*>(adj);
    const double* gq = g + 2 * std::size_t(nleaf_);
    for (std::size_t q = ninternal; q-- > 0;) {
        // z = x y: abar(x) += abar(z) y, abar(y) += abar(z) x
        const double zr = gq[2 * q], zi = gq[2 * q + 1];
        const std::size_t il = 2 * std::size_t(nodes[q].left), ir = 2 * std::size_t(nodes[q].right);
        const double ar = v[il], ai = v[il + 1], br = v[ir], bi = v[ir + 1];
        g[il] += zr * br - zi * bi;
        g[il + 1] += zr * bi + zi * br;
        g[ir] += zr * ar - zi * ai;
        g[ir + 1] += zr * ai + zi * ar;
    }
    // fold the negative-m leaves back: abar(A_lm) += (-1)^m conj(abar(A_{l,-m}))
    for (int blk = 0; blk < nel_ * nradmax_; ++blk) {
        cdouble* Gn = adj + std::size_t(blk) * nlm_;
        for (int l = 1; l <= lmax_; ++l)
            for (int m = 1; m <= l; ++m) {
                const cdouble a = Gn[l * l + l - m];
                Gn[l * l + l + m] += (m & 1) ? cdouble(-a.real(), a.imag()) : std::conj(a);
            }
    }
    double* w1 = ws.w1.data();
    std::fill(ws.w1.begin(), ws.w1.end(), 0.0);
    for (std::size_t t = 0; t < sp.a1_index.size(); ++t) {
        double w = 0.0;
        for (int p = 0; p < nd; ++p) w += dF[p] * sp.w1[t * nd + p];
        w1[sp.a1_index[t]] += w;
    }

    // ---- dE_i/dr_ij per neighbour: Re(abar_A dA/dr) + rank-1 + core
    cdouble* gr = ws.gr.data();
    cdouble* gd = ws.gd.data();
    for (int kk = 0; kk < nneigh; ++kk) {
        const int mu_j = ws.mu[kk];
        const BondRadial& bond = bonds_[mu_i * nel_ + mu_j];
        const double* rad = &ws.rad[std::size_t(kk) * nf];
        const double* drad = &ws.drad[std::size_t(kk) * nf];
        const double* u = &ws.rhat[3 * kk];
        const double inv_r = 1.0 / ws.r[kk];
        double radial_part = dE_dcore * drad[bond.nfunctions() - 1] + (kk == kmin ? dE_drmin : 0.0);
        const double* w1j = w1 + std::size_t(mu_j) * nbasis_;
        for (int q = 0; q < nbasis_; ++q) radial_part += w1j[q] * drad[q] * kY00;

        const int L1 = bond.lmax() + 1;
        const int nlm_b = lm_count(bond.lmax());
        std::fill(gr, gr + nlm_b, cdouble(0.0, 0.0));
        std::fill(gd, gd + nlm_b, cdouble(0.0, 0.0));
        const cdouble* abar = adj + std::size_t(mu_j) * nradmax_ * nlm_;
        const double* R = rad + nbasis_;
        const double* dR = drad + nbasis_;
        for (int n = 0; n < bond.nradial(); ++n) {
            const cdouble* an = abar + std::size_t(n) * nlm_;
            for (int l = 0; l < L1; ++l) {
                const double Rnl = R[n * L1 + l], dRnl = dR[n * L1 + l];
                const int l0 = lm_index(l, 0);
                const cdouble* anl = an + l * l + l;
                for (int m = 0; m <= l; ++m) {
                    gr[l0 + m] += Rnl * anl[m];
                    gd[l0 + m] += dRnl * anl[m];
                }
            }
        }
        // Angular part through the solid harmonics F_lm(r) = |r|^l Y_lm(r_hat): grad Y = (grad F - l Y u)/|r|,
        // and grad F_lm is a combination of F_{l-1, m-1..m+1} (ladder relations, coefficients ladder_*).
        const cdouble* y = &ws.y[std::size_t(kk) * nlm];
        double ax = 0.0, ay = 0.0, az = 0.0, ur = 0.0;
        radial_part += re_mul(gd[0], y[0]);
        for (int l = 1; l < L1; ++l) {
            const int l0 = lm_index(l, 0), d0 = lm_index(l - 1, 0);
            for (int m = 0; m <= l; ++m) {
                const cdouble g = gr[l0 + m];
                const cdouble Y = y[l0 + m];
                radial_part += re_mul(gd[l0 + m], Y);
                ur += l * re_mul(g, Y);
                const double cz = ladder_z_[l0 + m], cp = ladder_p_[l0 + m], cm = ladder_m_[l0 + m];
                if (m <= l - 1) az += cz * re_mul(g, y[d0 + m]);
                // P+ = g (dx + i dy) F, P- = g (dx - i dy) F
                double ppr = 0.0, ppi = 0.0, pmr = 0.0, pmi = 0.0;
                if (m + 1 <= l - 1) {
                    const cdouble f = y[d0 + m + 1];
                    ppr = cp * (g.real() * f.real() - g.imag() * f.imag());
                    ppi = cp * (g.real() * f.imag() + g.imag() * f.real());
                }
                if (l >= 2 || m >= 1) {
                    // F_{l-1, m-1}; for m = 0 it is F_{l-1,-1} = -conj(F_{l-1,1})
                    const cdouble f = m >= 1 ? y[d0 + m - 1] : cdouble(-y[d0 + 1].real(), y[d0 + 1].imag());
                    pmr = cm * (g.real() * f.real() - g.imag() * f.imag());
                    pmi = cm * (g.real() * f.imag() + g.imag() * f.real());
                }
                ax += 0.5 * (ppr + pmr);
                ay += 0.5 * (ppi - pmi);
            }
        }
        radial_part -= ur * inv_r;
        double* out = pair_grad + 3 * ws.pair[kk];
        out[0] = radial_part * u[0] + ax * inv_r;
        out[1] = radial_part * u[1] + ay * inv_r;
        out[2] = radial_part * u[2] + az * inv_r;
    }
}

void CtildeModel::compute(std::int64_t natoms, const std::int32_t* species, const std::int64_t* first,
                          const std::int64_t* neigh, const double* rij, const ComputeOptions& opt,
                          double* energies, double* forces, double* virial) const {
    if (natoms < 0) throw InputError("ACE compute: negative number of atoms");
    const std::int64_t npairs = natoms > 0 ? first[natoms] : 0;
    std::vector<double> pair_grad(opt.forces ? std::size_t(3 * npairs) : 0, 0.0);
    compute_pairs(natoms, species, first, natoms, species, neigh, rij, opt, energies, pair_grad.data());
    if (!opt.forces) return;
    tally_pair_gradients(natoms, first, neigh, rij, pair_grad.data(), nullptr, 1, forces, virial);
}

void tally_pair_gradients(std::int64_t natoms, const std::int64_t* first, const std::int64_t* neigh,
                          const double* rij, const double* pair_grad, const std::int64_t* config,
                          std::int64_t nconfigs, double* forces, double* virial) {
    std::fill(forces, forces + 3 * natoms, 0.0);
    std::fill(virial, virial + 9 * nconfigs, 0.0);
    for (std::int64_t i = 0; i < natoms; ++i) {
        double* w = virial + 9 * (config ? config[i] : 0);
        for (std::int64_t p = first[i]; p < first[i + 1]; ++p) {
            const double* g = &pair_grad[3 * p];  // dE/dr_ij, r_ij = r_j - r_i
            const std::int64_t j = neigh[p];
            const double* d = rij + 3 * p;
            for (int c = 0; c < 3; ++c) {
                forces[3 * i + c] += g[c];
                forces[3 * j + c] -= g[c];
            }
            for (int a = 0; a < 3; ++a)
                for (int b = 0; b < 3; ++b) w[3 * a + b] -= d[a] * g[b];
        }
    }
}

void CtildeModel::compute_pairs(std::int64_t ncentres, const std::int32_t* centre_species, const std::int64_t* first,
                                std::int64_t nneighbour_atoms, const std::int32_t* neighbour_species,
                                const std::int64_t* neigh, const double* rij, const ComputeOptions& opt,
                                double* energies, double* pair_grad) const {
    if (ncentres < 0 || nneighbour_atoms < 0) throw InputError("ACE compute: negative number of atoms");
    if (first[0] != 0) throw InputError("ACE compute: first[0] must be 0");
    for (std::int64_t i = 0; i < ncentres; ++i) {
        if (centre_species[i] < 0 || centre_species[i] >= nel_)
            throw InputError("ACE compute: atom " + std::to_string(i) + " has species index " +
                             std::to_string(centre_species[i]) + ", the potential has " + std::to_string(nel_) +
                             " elements");
        if (first[i + 1] < first[i]) throw InputError("ACE compute: first[] must be non-decreasing");
    }
    const std::int64_t npairs = first[ncentres];
    for (std::int64_t p = 0; p < npairs; ++p) {
        if (neigh[p] < 0 || neigh[p] >= nneighbour_atoms)
            throw InputError("ACE compute: neighbour index " + std::to_string(neigh[p]) + " out of range");
        const std::int32_t mu = neighbour_species[neigh[p]];
        if (mu < 0 || mu >= nel_)
            throw InputError("ACE compute: neighbour " + std::to_string(neigh[p]) + " has species index " +
                             std::to_string(mu) + ", the potential has " + std::to_string(nel_) + " elements");
    }
    if (opt.forces) std::fill(pair_grad, pair_grad + 3 * npairs, 0.0);
    int nf_max = 0;
    for (const auto& b : bonds_) nf_max = std::max(nf_max, b.nfunctions());
    std::size_t max_nodes = 0;
    int max_nd = 1;
    for (const auto& s : species_) {
        max_nodes = std::max(max_nodes, s.nodes.size());
        max_nd = std::max(max_nd, s.ndensity);
    }

    ThreadTeam team(opt.num_threads);
    team.run([&](int tid) {
        Workspace ws;
        ws.nf = nf_max;
        ws.val.resize(nleaf_ + max_nodes);
        ws.adj.resize(nleaf_ + max_nodes);
        ws.a1.resize(std::size_t(nel_) * nbasis_);
        ws.w1.resize(std::size_t(nel_) * nbasis_);
        ws.rho.resize(max_nd);
        ws.drho.resize(max_nd);
        ws.gr.resize(lm_count(lmax_));
        ws.gd.resize(lm_count(lmax_));
#ifdef FORCEFIT_HAVE_OPENMP
#pragma omp for schedule(dynamic, 8)
#endif
        for (std::int64_t i = 0; i < ncentres; ++i) {
            if (team.failed(tid)) continue;
            team.attempt(tid, [&] {
                compute_atom(i, centre_species[i], neighbour_species, first[i], first[i + 1], neigh, rij, opt, ws,
                             energies[i], pair_grad);
            });
        }
    });
    // Overflow (huge coefficients or embedding exponents) must not reach an MD code as inf/NaN forces.
    for (std::int64_t i = 0; i < ncentres; ++i) {
        bool finite = std::isfinite(energies[i]);
        if (opt.forces)
            for (std::int64_t q = 3 * first[i]; q < 3 * first[i + 1] && finite; ++q) finite = std::isfinite(pair_grad[q]);
        if (!finite)
            throw InputError("ACE compute: non-finite energy or forces of atom " + std::to_string(i) +
                             ": the potential overflows in this environment (check its coefficients and "
                             "embedding exponents)");
    }
}

}  // namespace forcefit::ace
