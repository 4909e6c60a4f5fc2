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
    throw InputError("unknown ACE embedding '" + name +
                     "' (known: FinnisSinclair, FinnisSinclairShiftedScaled)");
}

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

CtildeModel::CtildeModel(const CtildeSpec& spec, bool share_products)
    : nel_(int(spec.elements.size())), ylm_(0) {
    if (nel_ < 1) throw InputError("ACE potential has no elements");
    const std::size_t n2 = std::size_t(nel_) * nel_;
    if (spec.E0.size() != std::size_t(nel_) || spec.embeddings.size() != std::size_t(nel_) ||
        spec.bonds.size() != n2 || spec.functions.size() != std::size_t(nel_))
        throw InputError("ACE potential: E0, embeddings, functions need one entry per element and bonds one per pair");
    E0_ = spec.E0;
    emb_ = spec.embeddings;
    for (int mu = 0; mu < nel_; ++mu) {
        const auto& e = emb_[mu];
        if (e.ndensity < 1 || e.fs_parameters.size() != std::size_t(2 * e.ndensity))
            throw InputError("ACE embedding of " + spec.elements[mu] + ": needs 2*ndensity FS_parameters");
    }
    for (const auto& b : spec.bonds) {
        nbasis_ = std::max(nbasis_, b.nradbase);
        nradmax_ = std::max(nradmax_, b.nradmax);
        lmax_ = std::max(lmax_, b.lmax);
        cutoff_ = std::max(cutoff_, b.rcut);
        zbl_ = zbl_ || b.inner == InnerCutoffKind::Zbl;
    }
    // rank-1 functions may index g_k up to the largest n they use, as in python-ace (global nradbase)
    for (const auto& fl : spec.functions)
        for (const auto& f : fl)
            if (f.rank == 1 && !f.ns.empty()) nbasis_ = std::max(nbasis_, f.ns[0]);
    bonds_.reserve(n2);
    for (const auto& b : spec.bonds) bonds_.emplace_back(b, nbasis_, spec.delta_spline_bins);
    ylm_ = SphericalHarmonics(lmax_);
    nlm_ = lm_count(lmax_);
    nleaf_ = nel_ * nradmax_ * nlm_;
    leaf_m_.assign(nleaf_, 0);
    for (int q = 0; q < nleaf_; ++q) {
        const int lm = q % nlm_;
        int l = 0;
        while (lm_index(l + 1, 0) <= lm) ++l;
        leaf_m_[q] = static_cast<signed char>(lm - lm_index(l, 0));
    }
    species_.resize(nel_);
    for (int mu = 0; mu < nel_; ++mu) compile_species(mu, spec.functions[mu], share_products);
}

void CtildeModel::compile_species(int mu, const std::vector<CtildeFunctionSpec>& funcs, bool share) {
    Species& sp = species_[mu];
    const int nd = emb_[mu].ndensity;
    sp.ndensity = nd;
    std::map<int, int> rank1_slot;               // A1 index -> term
    std::map<std::vector<int>, std::int32_t> nodes;  // canonical sorted factor codes -> node id
    std::map<std::int32_t, int> root_slot;        // node -> root

    auto negate = [&](int code) { return leaf_m_[code >> 1] == 0 ? code : (code ^ 1); };
    auto m_of = [&](int code) { return (code & 1) ? -int(leaf_m_[code >> 1]) : int(leaf_m_[code >> 1]); };

    // Reference (4*node + 2*conj + negative) to the value prod_{codes} A.
    std::function<std::int32_t(const std::vector<int>&)> make;
    make = [&](const std::vector<int>& codes) -> std::int32_t {
        if (codes.size() == 1) {
            const int c = codes[0], flat = c >> 1;
            if (!(c & 1)) return 4 * flat;
            const bool odd = (leaf_m_[flat] & 1) != 0;  // A_{l,-m} = (-1)^m conj(A_lm)
            return 4 * flat + 2 + (odd ? 1 : 0);
        }
        std::vector<int> key = codes;
        int conj = 0, neg = 0;
        if (share) {
            std::vector<int> negk(codes.size());
            std::transform(codes.begin(), codes.end(), negk.begin(), negate);
            std::sort(negk.begin(), negk.end());
            if (negk < key) {
                int msum = 0;
                for (int c : codes) msum += m_of(c);
                key.swap(negk);
                conj = 1;
                neg = (msum % 2 != 0) ? 1 : 0;
            }
            auto it = nodes.find(key);
            if (it != nodes.end()) return 4 * it->second + 2 * conj + neg;
        }
        const std::vector<int> prefix(key.begin(), key.end() - 1);
        const std::int32_t lref = make(prefix);
        const std::int32_t rref = make(std::vector<int>{key.back()});
        const std::int32_t id = nleaf_ + std::int32_t(sp.left.size());
        sp.left.push_back(lref);
        sp.right.push_back(rref);
        if (share) nodes.emplace(key, id);
        return 4 * id + 2 * conj + neg;
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
            for (std::size_t c = 0; c < nms; ++c)
                for (int p = 0; p < nd; ++p) sp.w1[std::size_t(slot) * nd + p] += f.ctildes[c * nd + p];
            continue;
        }
        for (int t = 0; t < rank; ++t)
            if (f.ns[t] > nradmax_ || f.ls[t] > lmax_)
                throw InputError(where + "function " + std::to_string(fi) + " uses (n, l) = (" +
                                 std::to_string(f.ns[t]) + ", " + std::to_string(f.ls[t]) +
                                 ") beyond the radial functions");
        for (std::size_t c = 0; c < nms; ++c) {
            const double* coef = &f.ctildes[c * nd];
            bool nonzero = false;
            for (int p = 0; p < nd; ++p) nonzero = nonzero || coef[p] != 0.0;
            if (!nonzero) continue;
            std::vector<int> codes(rank);
            for (int t = 0; t < rank; ++t) {
                const int m = f.ms[c * rank + t], l = f.ls[t];
                if (m < -l || m > l)
                    throw InputError(where + "function " + std::to_string(fi) + " has |m| > l");
                const int flat = (f.mus[t] * nradmax_ + (f.ns[t] - 1)) * nlm_ + lm_index(l, m < 0 ? -m : m);
                codes[t] = 2 * flat + (m < 0 ? 1 : 0);
            }
            std::sort(codes.begin(), codes.end());
            const std::int32_t ref = make(codes);
            // Re(s conj(v)) = s Re(v): the root coefficient carries the sign, conj does not matter
            const std::int32_t node = ref >> 2;
            const double s = (ref & 1) ? -1.0 : 1.0;
            auto it = root_slot.find(node);
            int slot;
            if (it == root_slot.end()) {
                slot = int(sp.root_node.size());
                root_slot.emplace(node, slot);
                sp.root_node.push_back(node);
                sp.root_coef.resize(sp.root_coef.size() + nd, 0.0);
            } else {
                slot = it->second;
            }
            for (int p = 0; p < nd; ++p) sp.root_coef[std::size_t(slot) * nd + p] += s * coef[p];
        }
    }
}

void CtildeModel::radial(int mu_i, int mu_j, double r, bool splines, double* values, double* derivs) const {
    if (mu_i < 0 || mu_i >= nel_ || mu_j < 0 || mu_j >= nel_) throw InputError("ACE radial: species out of range");
    const BondRadial& b = bonds_[mu_i * nel_ + mu_j];
    if (splines) b.spline(r, values, derivs);
    else b.analytic(r, values, derivs);
}

}  // namespace forcefit::ace
