// B-basis -> Ctilde conversion (see bbasis.hpp).
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

#include "forcefit/ace/bbasis.hpp"
#include "forcefit/ace/coupling.hpp"
#include "forcefit/error.hpp"

namespace forcefit::ace {

namespace {

using Labels = std::tuple<std::vector<int>, std::vector<int>, std::vector<int>>;  // mus, ns, ls
using MsSums = std::map<std::vector<int>, std::vector<double>>;                  // ms -> [ndensity]

std::string list_text(const std::vector<int>& v) {
    std::string s = "[";
    for (std::size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + std::to_string(v[k]);
    return s + "]";
}

// Add c_p * C_ms of one B function, in canonical form, to the Ctilde function of its sorted labels.
void add_function(const BBasisFunctionSpec& f, int ndensity, ClebschGordanTables& tables,
                  std::map<Labels, MsSums>& out) {
    if (!couplings_are_valid(f.ls, f.lint))
        throw InputError(f.origin + ": the couplings nl " + list_text(f.ls) + ", lint " + list_text(f.lint) +
                         " violate the triangle rule (no m-combination couples to L = 0)");
    const GeneralizedCG gcg = generalized_cg(f.ls, f.lint, true, tables);
    const int rank = gcg.rank;
    // sort positions by (mu, n, l); equal labels keep their m's sorted per row below
    std::vector<int> order(rank);
    std::iota(order.begin(), order.end(), 0);
    auto label = [&](int t) { return std::make_tuple(f.mus[t], f.ns[t], f.ls[t]); };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return label(a) < label(b); });
    Labels key;
    for (int t : order) {
        std::get<0>(key).push_back(f.mus[t]);
        std::get<1>(key).push_back(f.ns[t]);
        std::get<2>(key).push_back(f.ls[t]);
    }
    std::map<std::vector<int>, double> merged;
    std::vector<int> row(rank);
    for (std::size_t c = 0; c < gcg.size(); ++c) {
        const int* m = &gcg.ms[c * rank];
        for (int k = 0; k < rank; ++k) row[k] = m[order[k]];
        // within a run of equal labels the m's go in ascending order
        for (int b = 0; b < rank;) {
            int e = b + 1;
            while (e < rank && label(order[e]) == label(order[b])) ++e;
            std::sort(row.begin() + b, row.begin() + e);
            b = e;
        }
        merged[row] += gcg.cg[c];
    }
    MsSums& sums = out[key];
    for (const auto& [ms, cg] : merged) {
        if (std::fabs(cg) < kCompressionZero) continue;
        auto& acc = sums.try_emplace(ms, std::vector<double>(ndensity, 0.0)).first->second;
        for (int p = 0; p < ndensity; ++p) acc[p] += f.coeffs[p] * cg;
    }
}

}  // namespace

CtildeSpec bbasis_to_ctilde(const BBasisSpec& bbasis) {
    const int nel = int(bbasis.elements.size());
    CtildeSpec spec;
    spec.elements = bbasis.elements;
    spec.E0.assign(nel, 0.0);
    spec.delta_spline_bins = bbasis.delta_spline_bins;
    spec.embeddings = bbasis.embeddings;
    spec.bonds = bbasis.bonds;
    spec.functions.resize(nel);
    ClebschGordanTables tables;
    for (int mu = 0; mu < nel; ++mu) {
        const int ndensity = bbasis.embeddings[mu].ndensity;
        std::map<Labels, MsSums> groups;
        for (const auto& f : bbasis.functions[mu]) add_function(f, ndensity, tables, groups);
        // (rank, mus, ns, ls) order; the map is ordered by (mus, ns, ls)
        for (const auto& [labels, sums] : groups) {
            if (sums.empty()) continue;
            CtildeFunctionSpec fs;
            fs.mus = std::get<0>(labels);
            fs.ns = std::get<1>(labels);
            fs.ls = std::get<2>(labels);
            fs.rank = int(fs.mus.size());
            fs.ndensity = ndensity;
            for (const auto& [ms, c] : sums) {
                fs.ms.insert(fs.ms.end(), ms.begin(), ms.end());
                fs.ctildes.insert(fs.ctildes.end(), c.begin(), c.end());
            }
            spec.functions[mu].push_back(std::move(fs));
        }
        std::stable_sort(spec.functions[mu].begin(), spec.functions[mu].end(),
                         [](const CtildeFunctionSpec& a, const CtildeFunctionSpec& b) { return a.rank < b.rank; });
    }
    return spec;
}

}  // namespace forcefit::ace
