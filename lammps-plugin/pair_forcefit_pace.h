// LAMMPS pair style "pace" evaluated by forcefit's C++ Ctilde ACE core (forcefit::ace::CtildeModel).
//
//   pair_style pace [recursive|product] [chunksize N]
//   pair_coeff * * potential.yace El1 El2 ... (one element or NULL per atom type; a Ctilde .yace or
//                                              a B-basis .yaml file, converted in C++ on reading)
//
// Design: each step the full neighbour list of the local atoms is packed into a CSR list of centres
// (local atoms of mapped types) whose neighbours index the local+ghost arrays directly, and
// CtildeModel::compute_pairs returns the per-atom energies and the per-pair gradients g = dE_i/dr_ij
// (r_ij = x_j - x_i).  The pair style tallies f_i += g, f_j -= g (ghost forces go home through LAMMPS's
// reverse communication, hence newton on), energies per atom, and the pair virial -r_ij (x) g, split
// half-half between i and j for per-atom virials (ev_tally_xyz).  "recursive" shares sub-products
// between basis functions (the fast evaluator), "product" evaluates each product independently;
// both give the same numbers to rounding.  chunksize is accepted for input compatibility with ML-PACE
// and ignored (the core streams atom by atom).  Threads: the core's OpenMP loop uses comm->nthreads
// (OMP_NUM_THREADS or "package omp N").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pair.h"

namespace forcefit::ace {
class CtildeModel;
struct CtildeSpec;
}  // namespace forcefit::ace

namespace forcefit_lammps {

class PairForcefitPace : public LAMMPS_NS::Pair {
public:
    explicit PairForcefitPace(LAMMPS_NS::LAMMPS* lmp);
    ~PairForcefitPace() override;

    void compute(int eflag, int vflag) override;
    void settings(int narg, char** arg) override;
    void coeff(int narg, char** arg) override;
    void init_style() override;
    double init_one(int i, int j) override;
    double memory_usage() override;

private:
    void allocate();
    void build_model();

    bool share_products_ = true;
    std::string potential_path_;
    std::unique_ptr<forcefit::ace::CtildeSpec> spec_;
    std::unique_ptr<forcefit::ace::CtildeModel> model_;
    std::vector<int> type_to_species_;  // [ntypes+1], -1 for NULL
    std::vector<double> cutsq_species_; // [nel*nel], squared bond cutoffs

    // per-step work arrays, kept to avoid reallocation
    std::vector<int> centres_;
    std::vector<std::int32_t> centre_species_, all_species_;
    std::vector<std::int64_t> first_, neigh_;
    std::vector<double> rij_, energies_, pair_grad_;
};

}  // namespace forcefit_lammps
