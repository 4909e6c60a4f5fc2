// Clebsch-Gordan coefficients and python-ace's coupling trees (see coupling.hpp).
#include "forcefit/ace/coupling.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <string>

#include "forcefit/error.hpp"

namespace forcefit::ace {

namespace {

constexpr int kMaxTriangleSum = 120;  // j1 + j2 + J: keeps the binomial sum inside 127 bits

using Int128 = __int128;

Int128 binomial(int n, int k) {
    if (k < 0 || k > n) return 0;
    k = std::min(k, n - k);
    Int128 b = 1;
    for (int i = 1; i <= k; ++i) b = b * (n - k + i) / i;  // exact: b is C(n-k+i, i) after each step
    return b;
}

long double factorial(int n) {
    static const std::vector<long double> table = [] {
        std::vector<long double> t(2 * kMaxTriangleSum + 2, 1.0L);
        for (std::size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] * static_cast<long double>(i);
        return t;
    }();
    return table[std::size_t(n)];
}

}  // namespace

double clebsch_gordan(int j1, int m1, int j2, int m2, int J, int M) {
    if (m1 + m2 != M || std::abs(m1) > j1 || std::abs(m2) > j2 || std::abs(M) > J) return 0.0;
    if (J < std::abs(j1 - j2) || J > j1 + j2) return 0.0;
    if (j1 + j2 + J > kMaxTriangleSum)
        throw InputError("Clebsch-Gordan coefficient <" + std::to_string(j1) + " " + std::to_string(m1) + " " +
                         std::to_string(j2) + " " + std::to_string(m2) + " | " + std::to_string(J) + " " +
                         std::to_string(M) + ">: angular momenta too large (j1 + j2 + J > " +
                         std::to_string(kMaxTriangleSum) + ")");
    const int a = j1 + j2 - J, b = j1 - j2 + J, c = -j1 + j2 + J;
    // Racah's sum over z of (-1)^z / [z! (a-z)! (j1-m1-z)! (j2+m2-z)! (J-j2+m1+z)! (J-j1-m2+z)!]
    // times a! b! c! is sum (-1)^z C(a, z) C(b, j1-m1-z) C(c, j2+m2-z): an integer
    const int zmin = std::max({0, j2 - J - m1, j1 - J + m2});
    const int zmax = std::min({a, j1 - m1, j2 + m2});
    Int128 sum = 0;
    for (int z = zmin; z <= zmax; ++z) {
        const Int128 term = binomial(a, z) * binomial(b, j1 - m1 - z) * binomial(c, j2 + m2 - z);
        sum += (z % 2) ? -term : term;
    }
    if (sum == 0) return 0.0;
    const long double s = static_cast<long double>(sum);
    const long double num = (2.0L * J + 1.0L) * factorial(J + M) * factorial(J - M) * factorial(j1 + m1) *
                            factorial(j1 - m1) * factorial(j2 + m2) * factorial(j2 - m2) * s * s;
    const long double den = factorial(j1 + j2 + J + 1) * factorial(a) * factorial(b) * factorial(c);
    const double value = static_cast<double>(std::sqrt(num / den));
    return sum > 0 ? value : -value;
}

std::vector<std::array<int, 3>> coupling_tree(int rank) {
    std::vector<std::array<int, 3>> triples;
    if (rank < 2) return triples;
    std::deque<int> leaves, labels, queue;
    for (int t = 0; t < rank; ++t) leaves.push_back(t);
    for (int t = rank; t < 2 * rank - 2; ++t) labels.push_back(t);
    const int root = 2 * rank - 2;
    auto pop = [](std::deque<int>& q) {
        const int v = q.front();
        q.pop_front();
        return v;
    };
    // couple the first two of `from` into the next inner node (the root once the labels run out)
    int parent = -1;
    auto couple = [&](std::deque<int>& from) {
        const int a = pop(from);
        const int b = pop(from);
        parent = labels.empty() ? root : pop(labels);
        triples.push_back({a, b, parent});
        queue.push_back(parent);
    };
    for (int k = 0; k < rank / 2; ++k) couple(leaves);
    while (queue.size() > 1 && parent != root) couple(queue);
    if (parent != root) {
        const int a = pop(queue);
        triples.push_back({a, pop(leaves), root});
    }
    return triples;
}

bool couplings_are_valid(const std::vector<int>& ls, const std::vector<int>& lint) {
    const int rank = int(ls.size());
    if (rank < 1) return false;
    if (int(lint.size()) != std::max(rank - 2, 0)) return false;
    if (rank == 1) return ls[0] == 0;
    std::vector<int> lsL(ls);
    lsL.insert(lsL.end(), lint.begin(), lint.end());
    lsL.push_back(0);
    for (const auto& t : coupling_tree(rank)) {
        const int la = lsL[t[0]], lb = lsL[t[1]], lp = lsL[t[2]];
        if (lp < std::abs(la - lb) || lp > la + lb) return false;
    }
    return true;
}

double ClebschGordanTables::get(int la, int ma, int lb, int mb, int lp) {
    const auto key = std::make_tuple(la, lb, lp);
    auto it = tables_.find(key);
    if (it == tables_.end()) {
        std::vector<double> t(std::size_t(2 * la + 1) * (2 * lb + 1), 0.0);
        for (int x = -la; x <= la; ++x)
            for (int y = -lb; y <= lb; ++y)
                if (std::abs(x + y) <= lp) t[std::size_t(x + la) * (2 * lb + 1) + (y + lb)] = clebsch_gordan(la, x, lb, y, lp, x + y);
        it = tables_.emplace(key, std::move(t)).first;
    }
    return it->second[std::size_t(ma + la) * (2 * lb + 1) + (mb + lb)];
}

GeneralizedCG generalized_cg(const std::vector<int>& ls, const std::vector<int>& lint, bool half_basis,
                             ClebschGordanTables& tables) {
    const int rank = int(ls.size());
    if (rank < 1) throw InputError("generalized Clebsch-Gordan coefficients: rank must be >= 1");
    if (int(lint.size()) != std::max(rank - 2, 0))
        throw InputError("generalized Clebsch-Gordan coefficients: rank " + std::to_string(rank) + " needs " +
                         std::to_string(std::max(rank - 2, 0)) + " lint values, got " +
                         std::to_string(lint.size()));
    GeneralizedCG out;
    out.rank = rank;
    if (rank == 1) {
        if (ls[0] == 0) {
            out.ms.push_back(0);
            out.cg.push_back(1.0);
        }
        return out;
    }
    for (int l : ls)
        if (l < 0) return out;
    std::vector<int> lsL(ls);
    lsL.insert(lsL.end(), lint.begin(), lint.end());
    lsL.push_back(0);
    const auto tree = coupling_tree(rank);
    std::vector<int> m(rank), node_m(2 * rank - 1);
    for (int t = 0; t < rank; ++t) m[t] = -ls[t];
    for (;;) {
        int total = 0, first_sign = 0;
        for (int t = 0; t < rank; ++t) {
            total += m[t];
            if (first_sign == 0 && m[t] != 0) first_sign = m[t] > 0 ? 1 : -1;
        }
        if (total == 0 && !(half_basis && first_sign < 0)) {
            std::copy(m.begin(), m.end(), node_m.begin());
            double coeff = 1.0;
            for (const auto& tr : tree) {
                const int ma = node_m[tr[0]], mb = node_m[tr[1]];
                const int la = lsL[tr[0]], lb = lsL[tr[1]], lp = lsL[tr[2]];
                node_m[tr[2]] = ma + mb;
                if (std::abs(ma) > la || std::abs(mb) > lb || std::abs(ma + mb) > lp) {
                    coeff = 0.0;
                    break;
                }
                coeff *= tables.get(la, ma, lb, mb, lp);
                if (coeff == 0.0) break;
            }
            if (coeff != 0.0) {
                out.ms.insert(out.ms.end(), m.begin(), m.end());
                out.cg.push_back(half_basis && first_sign > 0 ? 2.0 * coeff : coeff);
            }
        }
        // next m-tuple, m_1 fastest
        int t = 0;
        while (t < rank && m[t] == ls[t]) {
            m[t] = -ls[t];
            ++t;
        }
        if (t == rank) break;
        ++m[t];
    }
    return out;
}

}  // namespace forcefit::ace
