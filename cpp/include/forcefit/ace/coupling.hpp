// Generalized Clebsch-Gordan coefficients of ACE B-basis functions, python-ace's conventions (the C++
// twin of forcefit.ace.coupling, used to convert B-basis .yaml files without Python).
//
// A rank-r B function couples r atomic-base functions A_{n_t l_t m_t} to L = 0 along python-ace's binary
// coupling tree (coupling_tree): neighbouring leaves are paired ((0,1), (2,3), ...), then the new nodes in
// order of creation, and for odd rank the last node is coupled with the last leaf; inner nodes r..2r-3
// carry lint[0..r-3], the root (node 2r-2) is L = M = 0.  The coefficient of an m-combination is the
// product of ordinary Clebsch-Gordan coefficients <l_a m_a l_b m_b | L M> over the tree.
//
// m-combinations are enumerated with m_1 fastest; sum(m) != 0, an inner |M| > L or a zero product drop a
// combination.  In the half basis (python-ace's default) only combinations whose first non-zero m is
// positive (or all m zero) are kept, and those with positive first m get a factor 2 (the mirror
// combination contributes the complex conjugate, so 2 Re(...) over the half equals the full sum).
//
// Clebsch-Gordan coefficients: Racah's formula with the alternating sum as an exact 128-bit integer (a sum
// of products of three binomials) and the factorial prefactor in long double, rounded once to double;
// exact to about one ulp for j1 + j2 + J <= 120 (beyond that an InputError).  Condon-Shortley phase.
#pragma once

#include <array>
#include <map>
#include <tuple>
#include <vector>

namespace forcefit::ace {

/// <j1 m1 j2 m2 | J M> for integer angular momenta; 0 outside the selection rules.
double clebsch_gordan(int j1, int m1, int j2, int m2, int J, int M);

/// python-ace's coupling tree of a rank: rank - 1 triples (child a, child b, parent); leaves 0..rank-1,
/// inner nodes rank..2*rank-3 (lint), root 2*rank-2.  Empty for rank < 2.
std::vector<std::array<int, 3>> coupling_tree(int rank);

/// True when every tree node obeys the triangle rule and the root is L = 0 (rank 1: ls == {0}).
/// False also when lint does not have max(rank - 2, 0) values.
bool couplings_are_valid(const std::vector<int>& ls, const std::vector<int>& lint);

/// The m-combinations of one B function and their coefficients.
struct GeneralizedCG {
    int rank = 0;
    std::vector<int> ms;      ///< [ncomb][rank], python-ace's order (m_1 fastest)
    std::vector<double> cg;   ///< [ncomb], non-zero
    std::size_t size() const { return cg.size(); }
};

/// Memoised tables of <la ma lb mb | lp ma+mb> per (la, lb, lp), for converting many functions.
class ClebschGordanTables {
public:
    /// <la ma lb mb | lp ma+mb>; |ma| <= la, |mb| <= lb required; 0 when |ma + mb| > lp.
    double get(int la, int ma, int lb, int mb, int lp);

private:
    std::map<std::tuple<int, int, int>, std::vector<double>> tables_;
};

/// Generalized Clebsch-Gordan coefficients of a B function with angular momenta ls (rank = ls.size())
/// and intermediate couplings lint (rank - 2 values for rank > 2).  Throws forcefit::InputError when
/// the lint count is wrong; invalid couplings give an empty list.
GeneralizedCG generalized_cg(const std::vector<int>& ls, const std::vector<int>& lint, bool half_basis,
                             ClebschGordanTables& tables);

}  // namespace forcefit::ace
