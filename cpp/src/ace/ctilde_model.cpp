// Ctilde model set-up: bond radial tables, embeddings, and the product DAG per central species
// (see ctilde_model.hpp for the maths).
#include "forcefit/ace/ctilde_model.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>

#include "forcefit/error.hpp"

namespace forcefit::ace {

EmbeddingKind embedding_from_name(const std::string& name) {
    if (name == "FinnisSinclair") return EmbeddingKind::FinnisSinclair;
    if (name == "FinnisSinclairShiftedScaled") return EmbeddingKind::FinnisSinclairShiftedScaled;
    // python-ace's C++ names of the two functions are not file names: python-ace leaves F unset for them
    std::string hint;
    if (name == "Fexp") hint = "; 'Fexp' is python-ace's function behind npoti FinnisSinclair";
    if (name == "FexpShiftedScaled")
        hint = "; 'FexpShiftedScaled' is python-ace's function behind npoti FinnisSinclairShiftedScaled";
    throw InputError("unknown ACE embedding '" + name + "' (known: FinnisSinclair, FinnisSinclairShiftedScaled)" +
                     hint);
}

namespace {

void check_embedding(const EmbeddingSpec& e, const std::string& element) {
    if (e.ndensity > 8) throw InputError("ACE embedding of " + element + ": at most 8 densities are supported");
    if (e.ndensity < 1 || e.fs_parameters.size() != std::size_t(2 * e.ndensity))
        throw InputError("ACE embedding of " + element + ": needs 2*ndensity FS_parameters");
    for (double v : e.fs_parameters)
        if (!std::isfinite(v)) throw InputError("ACE embedding of " + element + ": non-finite FS_parameters");
    if (e.kind == EmbeddingKind::FinnisSinclairShiftedScaled)
        for (int p = 0; p < e.ndensity; ++p)
            if (!(e.fs_parameters[2 * p + 1] > 0.0))
                throw InputError("ACE embedding of " + element +
                                 ": FinnisSinclairShiftedScaled needs exponents > 0 (its offsets use 1/exponent), got " +
                                 std::to_string(e.fs_parameters[2 * p + 1]));
    if (!std::isfinite(e.rho_core_cutoff) || !std::isfinite(e.drho_core_cutoff))
        throw InputError("ACE embedding of " + element + ": non-finite rho_core_cutoff/drho_core_cutoff");
}

}  // namespace

void embedding_value(EmbeddingKind kind, double rho, double mexp, double& f, double& df) {
    if (kind == EmbeddingKind::FinnisSinclair) {
        // sign(x) [(1 - g)|x|^m + w^(1-m) g |x|], g = exp(-(w|x|)^3), w = 1e6: |x|^m away from 0, linear at 0
        const double w = 1.0e6, eps = 1e-10;
        const double lin = std::pow(1.0 / w, mexp - 1.0);
        if (std::fabs(rho) > eps) {
            const double a = std::fabs(rho);
            const double am = std::pow(a, mexp);
            const double w3x3 = std::pow(w * a, 3);
            const double g = w3x3 > 30.0 ? 0.0 : std::exp(-w3x3);
            const double sign = std::signbit(rho) ? -1.0 : 1.0;
            f = sign * ((1.0 - g) * am + lin * g * a);
            const double dg = -3.0 * w * w * w * a * a * g;
            df = mexp * std::pow(a, mexp - 1.0) * (1.0 - g) - am * dg + lin * dg * a + lin * g;
        } else {
            f = lin * rho;
            df = lin;
        }
        return;
    }
    // FinnisSinclairShiftedScaled: sign(x) [(x_off + |x|)^m - y_off], offsets decaying as exp(-|x|)
    if (std::fabs(mexp - 1.0) < 1e-10) {
        f = rho;
        df = 1.0;
        return;
    }
    const double a = std::fabs(rho), e = std::exp(-a), nx = 1.0 / mexp;
    const double xoff = std::pow(nx, nx / (1.0 - nx)) * e;
    const double yoff = std::pow(nx, 1.0 / (1.0 - nx)) * e;
    const double sign = std::signbit(rho) ? -1.0 : 1.0;
    f = sign * (std::pow(xoff + a, mexp) - yoff);
    df = yoff + mexp * (1.0 - xoff) * std::pow(xoff + a, mexp - 1.0);
}

double embedding_second(EmbeddingKind kind, double rho, double mexp) {
    const double a = std::fabs(rho), sign = std::signbit(rho) ? -1.0 : 1.0;
    if (kind == EmbeddingKind::FinnisSinclair) {
        if (a <= 1e-10) return 0.0;
        const double w = 1.0e6, w3 = w * w * w, lin = std::pow(1.0 / w, mexp - 1.0);
        const double w3x3 = std::pow(w * a, 3);
        const double g = w3x3 > 30.0 ? 0.0 : std::exp(-w3x3);
        const double dg = -3.0 * w3 * a * a * g;
        const double d2g = g * (-6.0 * w3 * a + 9.0 * w3 * w3 * a * a * a * a);
        const double h2 = mexp * (mexp - 1.0) * std::pow(a, mexp - 2.0) * (1.0 - g) -
                          2.0 * mexp * std::pow(a, mexp - 1.0) * dg - std::pow(a, mexp) * d2g + lin * d2g * a +
                          2.0 * lin * dg;
        return sign * h2;
    }
    if (std::fabs(mexp - 1.0) < 1e-10) return 0.0;
    const double e = std::exp(-a), nx = 1.0 / mexp;
    const double xoff = std::pow(nx, nx / (1.0 - nx)) * e;
    const double yoff = std::pow(nx, 1.0 / (1.0 - nx)) * e;
    const double s = xoff + a;
    const double h2 = mexp * (mexp - 1.0) * std::pow(s, mexp - 2.0) * (1.0 - xoff) * (1.0 - xoff) +
                      mexp * std::pow(s, mexp - 1.0) * xoff - yoff;
    return sign * h2;
}

CtildeModel::CtildeModel(const CtildeSpec& spec, bool share_products, bool keep_zero_terms)
    : nel_(int(spec.elements.size())), ylm_(0) {
    if (nel_ < 1) throw InputError("ACE potential has no elements");
    const std::size_t n2 = std::size_t(nel_) * nel_;
    if (spec.E0.size() != std::size_t(nel_) || spec.embeddings.size() != std::size_t(nel_) ||
        spec.bonds.size() != n2 || spec.functions.size() != std::size_t(nel_))
        throw InputError("ACE potential: E0, embeddings, functions need one entry per element and bonds one per pair");
    E0_ = spec.E0;
    emb_ = spec.embeddings;
    for (int mu = 0; mu < nel_; ++mu) check_embedding(emb_[mu], spec.elements[mu]);
    for (const auto& b : spec.bonds) {
        nbasis_ = std::max(nbasis_, b.nradbase);
        nradmax_ = std::max(nradmax_, b.nradmax);
        lmax_ = std::max(lmax_, b.lmax);
        cutoff_ = std::max(cutoff_, b.rcut);
        zbl_ = zbl_ || b.inner == InnerCutoffKind::Zbl;
    }
    // rank-1 functions may index g_k up to python-ace's global nradbase, the largest nradbasemax of all bonds
    // (as forcefit.ace.ctilde checks; compile_species rejects larger n, which would size the tables)
    bonds_.reserve(n2);
    for (const auto& b : spec.bonds) bonds_.emplace_back(b, nbasis_, spec.delta_spline_bins);
    ylm_ = SphericalHarmonics(lmax_);
    nlm_ = (lmax_ + 1) * (lmax_ + 1);  // leaves hold every m in -l..l at l*l + l + m
    nleaf_ = nel_ * nradmax_ * nlm_;
    leaf_m_.assign(nleaf_, 0);
    for (int q = 0; q < nleaf_; ++q) {
        const int lm = q % nlm_;
        int l = 0;
        while ((l + 1) * (l + 1) <= lm) ++l;
        leaf_m_[q] = static_cast<signed char>(lm - l * l - l);
    }
    // ladder coefficients of the solid harmonics in python-ace's normalisation (F_00 = 1, Condon-Shortley)
    ladder_z_.assign(lm_count(lmax_), 0.0);
    ladder_p_.assign(lm_count(lmax_), 0.0);
    ladder_m_.assign(lm_count(lmax_), 0.0);
    for (int l = 1; l <= lmax_; ++l) {
        const double s = std::sqrt((2.0 * l + 1.0) / (2.0 * l - 1.0));
        for (int m = 0; m <= l; ++m) {
            ladder_z_[lm_index(l, m)] = s * std::sqrt(double((l + m) * (l - m)));
            ladder_p_[lm_index(l, m)] = s * std::sqrt(double((l - m) * (l - m - 1)));
            ladder_m_[lm_index(l, m)] = -s * std::sqrt(double((l + m) * (l + m - 1)));
        }
    }
    species_.resize(nel_);
    for (int mu = 0; mu < nel_; ++mu) compile_species(mu, spec.functions[mu], share_products, keep_zero_terms);
}

void CtildeModel::compile_species(int mu, const std::vector<CtildeFunctionSpec>& funcs, bool share,
                                  bool keep_zeros) {
    Species& sp = species_[mu];
    const int nd = emb_[mu].ndensity;
    sp.ndensity = nd;
    std::map<int, int> rank1_slot;                    // A1 index -> term
    std::map<std::vector<int>, std::int32_t> nodes;   // sorted leaf ids -> node id
    std::map<std::pair<std::int32_t, int>, int> term_slot;  // (prefix node, last leaf) -> term
    std::vector<std::int32_t> term_prefix;
    std::vector<int> term_leaf;
    std::vector<double> term_coef;

    // A leaf id names A_{mu n l m} for any sign of m; A_{l,-m} is a leaf of its own, filled per atom
    // from (-1)^m conj(A_lm), so no product node needs conjugation or sign flips.
    auto negate = [&](int leaf) { return leaf - 2 * int(leaf_m_[leaf]); };

    // Node id of prod_{leaves} A: a prefix-sharing trie over sorted leaf lists.
    std::function<std::int32_t(const std::vector<int>&)> make;
    make = [&](const std::vector<int>& leaves) -> std::int32_t {
        if (leaves.size() == 1) return leaves[0];
        if (share) {
            auto it = nodes.find(leaves);
            if (it != nodes.end()) return it->second;
        }
        const std::int32_t left = make(std::vector<int>(leaves.begin(), leaves.end() - 1));
        const std::int32_t id = nleaf_ + std::int32_t(sp.nodes.size());
        sp.nodes.push_back({left, leaves.back()});
        if (share) nodes.emplace(leaves, id);
        return id;
    };

    const std::string where = "ACE functions of species " + std::to_string(mu) + ": ";
    for (std::size_t fi = 0; fi < funcs.size(); ++fi) {
        const auto& f = funcs[fi];
        const int rank = f.rank;
        const std::size_t nms = rank > 0 ? f.ms.size() / rank : 0;
        if (rank < 1 || f.mus.size() != std::size_t(rank) || f.ns.size() != std::size_t(rank) ||
            f.ls.size() != std::size_t(rank) || f.ms.size() != nms * rank || f.ctildes.size() != nms * f.ndensity)
            throw InputError(where + "function " + std::to_string(fi) + " has inconsistent array sizes");
        if (f.ndensity != nd)
            throw InputError(where + "function " + std::to_string(fi) + " has ndensity " +
                             std::to_string(f.ndensity) + ", the embedding " + std::to_string(nd));
        for (int t = 0; t < rank; ++t) {
            if (f.mus[t] < 0 || f.mus[t] >= nel_ || f.ns[t] < 1 || f.ls[t] < 0)
                throw InputError(where + "function " + std::to_string(fi) + " has an invalid (mu, n, l)");
        }
        sp.function_nms.push_back(std::int32_t(nms));
        sp.ctildes.insert(sp.ctildes.end(), f.ctildes.begin(), f.ctildes.end());
        if (rank == 1) {
            if (f.ns[0] > nbasis_ || f.ls[0] != 0)
                throw InputError(where + "rank-1 function " + std::to_string(fi) + " needs l = 0 and n <= nradbase");
            const int a1 = f.mus[0] * nbasis_ + (f.ns[0] - 1);
            auto it = rank1_slot.find(a1);
            int slot;
            if (it == rank1_slot.end()) {
                slot = int(sp.a1_index.size());
                rank1_slot.emplace(a1, slot);
                sp.a1_index.push_back(a1);
                sp.w1.resize(sp.w1.size() + nd, 0.0);
            } else {
                slot = it->second;
            }
            for (std::size_t c = 0; c < nms; ++c) {
                for (int p = 0; p < nd; ++p) sp.w1[std::size_t(slot) * nd + p] += f.ctildes[c * nd + p];
                sp.refs.push_back({1, slot, 1.0});
            }
            continue;
        }
        for (int t = 0; t < rank; ++t)
            if (f.ns[t] > nradmax_ || f.ls[t] > lmax_)
                throw InputError(where + "function " + std::to_string(fi) + " uses (n, l) = (" +
                                 std::to_string(f.ns[t]) + ", " + std::to_string(f.ls[t]) +
                                 ") beyond the radial functions");
        for (std::size_t c = 0; c < nms; ++c) {
            const double* coef = &f.ctildes[c * nd];
            bool nonzero = keep_zeros;
            for (int p = 0; p < nd; ++p) nonzero = nonzero || coef[p] != 0.0;
            sp.refs.push_back({-1, 0, 1.0});
            if (!nonzero) continue;
            std::vector<int> leaves(rank);
            int msum = 0;
            for (int t = 0; t < rank; ++t) {
                const int m = f.ms[c * rank + t], l = f.ls[t];
                if (m < -l || m > l)
                    throw InputError(where + "function " + std::to_string(fi) + " has |m| > l");
                leaves[t] = (f.mus[t] * nradmax_ + (f.ns[t] - 1)) * nlm_ + l * l + l + m;
                msum += m;
            }
            std::sort(leaves.begin(), leaves.end());
            // A product and its mirror image (all m -> -m) have equal real parts up to (-1)^{sum m}:
            // prod A_{-m} = (-1)^{sum m} conj(prod A_m).  Keep one of each pair.
            double s = 1.0;
            if (share) {
                std::vector<int> mirror(rank);
                std::transform(leaves.begin(), leaves.end(), mirror.begin(), negate);
                std::sort(mirror.begin(), mirror.end());
                if (mirror < leaves) {
                    leaves.swap(mirror);
                    if (msum % 2 != 0) s = -1.0;
                }
            }
            // the last factor is not multiplied in a node: rho_p += Re(prefix * sum_x c_xp A_x) (see header)
            const int last = leaves.back();
            leaves.pop_back();
            const std::int32_t prefix = make(leaves);
            int slot = -1;
            if (share) {
                auto it = term_slot.find({prefix, last});
                if (it != term_slot.end()) slot = it->second;
            }
            if (slot < 0) {
                slot = int(term_prefix.size());
                if (share) term_slot.emplace(std::make_pair(prefix, last), slot);
                term_prefix.push_back(prefix);
                term_leaf.push_back(last);
                term_coef.resize(term_coef.size() + nd, 0.0);
            }
            for (int p = 0; p < nd; ++p) term_coef[std::size_t(slot) * nd + p] += s * coef[p];
            sp.refs.back() = {0, slot, s};
        }
    }
    // group the terms by prefix (CSR)
    std::vector<int> order(term_prefix.size());
    for (std::size_t t = 0; t < order.size(); ++t) order[t] = int(t);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return term_prefix[a] < term_prefix[b]; });
    sp.group_first.assign(1, 0);
    for (std::size_t k = 0; k < order.size(); ++k) {
        const int t = order[k];
        if (sp.group_prefix.empty() || sp.group_prefix.back() != term_prefix[t]) {
            if (!sp.group_prefix.empty()) sp.group_first.push_back(std::int32_t(k));
            sp.group_prefix.push_back(term_prefix[t]);
        }
        sp.term_leaf.push_back(term_leaf[t]);
        for (int p = 0; p < nd; ++p) sp.term_coef.push_back(term_coef[std::size_t(t) * nd + p]);
    }
    sp.group_first.push_back(std::int32_t(order.size()));
    if (sp.group_prefix.empty()) sp.group_first.assign(1, 0);
    // product terms now live at their grouped position
    std::vector<std::int32_t> position(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) position[order[k]] = std::int32_t(k);
    for (auto& ref : sp.refs)
        if (ref.kind == 0) ref.slot = position[ref.slot];
}

void CtildeModel::radial(int mu_i, int mu_j, double r, bool splines, double* values, double* derivs) const {
    if (mu_i < 0 || mu_i >= nel_ || mu_j < 0 || mu_j >= nel_) throw InputError("ACE radial: species out of range");
    const BondRadial& b = bonds_[mu_i * nel_ + mu_j];
    if (splines) b.spline(r, values, derivs);
    else b.analytic(r, values, derivs);
}

}  // namespace forcefit::ace
