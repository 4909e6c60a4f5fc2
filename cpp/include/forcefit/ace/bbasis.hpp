// B-basis ACE potential after python-ace's resolution rules, and its conversion to the Ctilde form
// (the C++ twin of forcefit.ace.convert, as python-ace's pace_yaml2yace does it).
//
// Conversion: every B function B = sum_ms C_ms prod_t A_{mu_t n_t l_t m_t} with coefficients c_p (one per
// density p) contributes c_p * C_ms to the Ctilde coefficient of each of its half-basis m-combinations
// (coupling.hpp: factor 2 where the first non-zero m is positive).  Each function is brought to the
// canonical ("compressed") form: its (mu, n, l) labels sorted, and within equal labels the m's sorted, since
// the product of A's does not change when two equal-label factors swap; coefficients of equal canonical
// combinations are added and sums below 1e-15 dropped.  (python-ace keeps a function uncompressed when
// that is not shorter; the listing differs then, the energy does not.)  B functions with the same
// (mus, ns, ls), i.e. differing only in lint, become one Ctilde function whose ms are listed in
// lexicographic order; the Ctilde functions of a species are sorted by (rank, mus, ns, ls).  Radial bases,
// cutoffs, core repulsion and embeddings are copied; E0 is 0 for every element (B-basis files carry none).
// Units: Å and eV.
#pragma once

#include <string>
#include <vector>

#include "forcefit/ace/ctilde_model.hpp"

namespace forcefit::ace {

/// One B function (an nbody entry) of a resolved potential.
struct BBasisFunctionSpec {
    std::vector<int> mus;          ///< [rank] neighbour species indices
    std::vector<int> ns;           ///< [rank] 1-based radial indices
    std::vector<int> ls;           ///< [rank]
    std::vector<int> lint;         ///< [max(rank - 2, 0)] intermediate couplings
    std::vector<double> coeffs;    ///< [ndensity of the central species]
    std::string origin;            ///< "path: line N: species[i] ('Al Ni'): nbody[j]", for error messages
};

/// A B-basis potential with python-ace's defaults applied and every bond present.
struct BBasisSpec {
    std::vector<std::string> elements;                       ///< sorted; index = species id
    double delta_spline_bins = 0.001;                        ///< Å
    std::vector<EmbeddingSpec> embeddings;                   ///< [nelements]
    std::vector<BondSpec> bonds;                             ///< [nelements*nelements], mu_i*nel + mu_j
    std::vector<std::vector<BBasisFunctionSpec>> functions;  ///< [nelements], file order, skipped left out
};

/// Below this a summed compressed coefficient is dropped (python-ace's threshold).
constexpr double kCompressionZero = 1e-15;

/// The Ctilde form of a resolved B-basis potential.  Throws forcefit::InputError (naming the function's
/// origin) when a function's couplings cannot close to L = 0.
CtildeSpec bbasis_to_ctilde(const BBasisSpec& bbasis);

}  // namespace forcefit::ace
