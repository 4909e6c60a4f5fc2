// pair_style pace on forcefit's Ctilde ACE core; see pair_forcefit_pace.h for the design.
#include "pair_forcefit_pace.h"

#include <algorithm>
#include <cstring>
#include <exception>

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "utils.h"

#include "forcefit/ace/ctilde_model.hpp"
#include "forcefit/ace/bbasis_reader.hpp"

using namespace LAMMPS_NS;

namespace forcefit_lammps {

namespace {
bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
}  // namespace

PairForcefitPace::PairForcefitPace(LAMMPS* lmp) : Pair(lmp) {
    single_enable = 0;
    restartinfo = 0;
    one_coeff = 1;
    manybody_flag = 1;
    centroidstressflag = CENTROID_NOTAVAIL;
}

PairForcefitPace::~PairForcefitPace() {
    if (allocated) {
        memory->destroy(setflag);
        memory->destroy(cutsq);
    }
}

void PairForcefitPace::allocate() {
    allocated = 1;
    const int n = atom->ntypes + 1;
    memory->create(setflag, n, n, "pair:setflag");
    memory->create(cutsq, n, n, "pair:cutsq");
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
            setflag[i][j] = 0;
            cutsq[i][j] = 0.0;
        }
}

void PairForcefitPace::settings(int narg, char** arg) {
    bool share = true;
    for (int a = 0; a < narg; ++a) {
        const std::string word = arg[a];
        if (word == "recursive") {
            share = true;
        } else if (word == "product") {
            share = false;
        } else if (word == "chunksize") {
            if (a + 1 >= narg) error->all(FLERR, "pair_style pace: chunksize needs a value");
            if (utils::inumeric(FLERR, arg[a + 1], false, lmp) < 1)
                error->all(FLERR, "pair_style pace: chunksize must be positive");
            ++a;
        } else {
            error->all(FLERR, "pair_style pace: unknown keyword '{}' (expected recursive, product or chunksize N)",
                       word);
        }
    }
    if (share != share_products_) {
        share_products_ = share;
        if (spec_) build_model();
    }
}

void PairForcefitPace::build_model() {
    try {
        model_ = std::make_unique<forcefit::ace::CtildeModel>(*spec_, share_products_);
    } catch (const std::exception& e) {
        error->all(FLERR, "pair_style pace: potential file {}: {}", potential_path_, e.what());
    }
}

void PairForcefitPace::coeff(int narg, char** arg) {
    if (!allocated) allocate();
    const int ntypes = atom->ntypes;
    if (narg != 3 + ntypes)
        error->all(FLERR,
                   "pair_coeff for pair style pace: expected '* * potential.yace|.yaml' and one element (or NULL) "
                   "for each of the {} atom types, got {} arguments",
                   ntypes, narg);
    if (std::strcmp(arg[0], "*") != 0 || std::strcmp(arg[1], "*") != 0)
        error->all(FLERR, "pair_coeff for pair style pace must start with '* *'");

    const std::string given = arg[2];
    if (ends_with(given, ".ace"))
        error->all(FLERR,
                   "pair_style pace: {} is an old-format .ace potential; the plugin reads .yace and B-basis .yaml "
                   "files. Convert it: "
                   "python -c \"from forcefit.ace import read_ace, write_yace; write_yace(read_ace('{}'), "
                   "'converted.yace')\"",
                   given, given);
    std::string path = utils::get_potential_file_path(given);
    if (path.empty()) path = given;
    auto spec = std::make_unique<forcefit::ace::CtildeSpec>();
    try {
        *spec = forcefit::ace::read_potential_spec(path);
    } catch (const std::exception& e) {
        error->all(FLERR, "pair_style pace: cannot read potential file: {}", e.what());
    }
    spec_ = std::move(spec);
    potential_path_ = path;
    build_model();

    const int nel = model_->nelements();
    type_to_species_.assign(ntypes + 1, -1);
    for (int t = 1; t <= ntypes; ++t) {
        const std::string name = arg[2 + t];
        if (name == "NULL") continue;
        const auto& els = spec_->elements;
        const auto it = std::find(els.begin(), els.end(), name);
        if (it == els.end()) {
            std::string known;
            for (const auto& e : els) known += (known.empty() ? "" : " ") + e;
            error->all(FLERR, "pair_coeff for pair style pace: element '{}' (atom type {}) is not in potential "
                       "file {} (its elements: {})", name, t, path, known);
        }
        type_to_species_[t] = int(it - els.begin());
    }
    cutsq_species_.assign(std::size_t(nel) * nel, 0.0);
    for (int a = 0; a < nel; ++a)
        for (int b = 0; b < nel; ++b) cutsq_species_[a * nel + b] = model_->cutoff(a, b) * model_->cutoff(a, b);

    int count = 0;
    for (int i = 1; i <= ntypes; ++i)
        for (int j = i; j <= ntypes; ++j) {
            setflag[i][j] = (type_to_species_[i] >= 0 && type_to_species_[j] >= 0) ? 1 : 0;
            count += setflag[i][j];
        }
    if (count == 0) error->all(FLERR, "pair_coeff for pair style pace: every atom type is NULL");
}

void PairForcefitPace::init_style() {
    if (force->newton_pair == 0) error->all(FLERR, "Pair style pace requires newton pair on");
    if (!model_) error->all(FLERR, "Pair style pace: pair_coeff * * potential.yace|.yaml ... has not been given");
    neighbor->add_request(this, NeighConst::REQ_FULL);
}

double PairForcefitPace::init_one(int i, int j) {
    if (setflag[i][j] == 0) error->all(FLERR, "All pair coeffs are not set");
    const int a = type_to_species_[i], b = type_to_species_[j];
    return std::max(model_->cutoff(a, b), model_->cutoff(b, a));
}

void PairForcefitPace::compute(int eflag, int vflag) {
    ev_init(eflag, vflag);
    double** x = atom->x;
    double** f = atom->f;
    const int* type = atom->type;
    const int nlocal = atom->nlocal;
    const int nall = nlocal + atom->nghost;
    const int nel = model_->nelements();

    all_species_.resize(nall);
    for (int j = 0; j < nall; ++j) all_species_[j] = type_to_species_[type[j]];

    const int inum = list->inum;
    const int* ilist = list->ilist;
    const int* numneigh = list->numneigh;
    int** firstneigh = list->firstneigh;
    centres_.clear();
    centre_species_.clear();
    neigh_.clear();
    rij_.clear();
    first_.assign(1, 0);
    for (int ii = 0; ii < inum; ++ii) {
        const int i = ilist[ii];
        const int mu_i = all_species_[i];
        if (mu_i < 0) continue;
        centres_.push_back(i);
        centre_species_.push_back(mu_i);
        const int* jlist = firstneigh[i];
        for (int jj = 0; jj < numneigh[i]; ++jj) {
            const int j = jlist[jj] & NEIGHMASK;
            const int mu_j = all_species_[j];
            if (mu_j < 0) continue;
            const double dx = x[j][0] - x[i][0], dy = x[j][1] - x[i][1], dz = x[j][2] - x[i][2];
            if (dx * dx + dy * dy + dz * dz >= cutsq_species_[mu_i * nel + mu_j]) continue;
            neigh_.push_back(j);
            rij_.push_back(dx);
            rij_.push_back(dy);
            rij_.push_back(dz);
        }
        first_.push_back(std::int64_t(neigh_.size()));
    }
    const std::int64_t ncentres = std::int64_t(centres_.size());
    const std::int64_t npairs = std::int64_t(neigh_.size());
    energies_.resize(ncentres);
    pair_grad_.resize(3 * npairs);

    forcefit::ace::ComputeOptions opt;
    opt.forces = true;
    opt.splines = true;
    opt.num_threads = comm->nthreads > 0 ? comm->nthreads : 1;
    try {
        model_->compute_pairs(ncentres, centre_species_.data(), first_.data(), nall, all_species_.data(),
                              neigh_.data(), rij_.data(), opt, energies_.data(), pair_grad_.data());
    } catch (const std::exception& e) {
        error->one(FLERR, "pair_style pace: {}", e.what());
    }

    for (std::int64_t c = 0; c < ncentres; ++c) {
        const int i = centres_[c];
        if (eflag_global) eng_vdwl += energies_[c];
        if (eflag_atom) eatom[i] += energies_[c];
        for (std::int64_t p = first_[c]; p < first_[c + 1]; ++p) {
            const int j = int(neigh_[p]);
            const double* g = &pair_grad_[3 * p];  // dE_i/dr_ij: force +g on i, -g on j
            f[i][0] += g[0];
            f[i][1] += g[1];
            f[i][2] += g[2];
            f[j][0] -= g[0];
            f[j][1] -= g[1];
            f[j][2] -= g[2];
            if (vflag_either) {
                const double* d = &rij_[3 * p];
                ev_tally_xyz(i, j, nlocal, force->newton_pair, 0.0, 0.0, g[0], g[1], g[2], -d[0], -d[1], -d[2]);
            }
        }
    }
    if (vflag_fdotr) virial_fdotr_compute();
}

double PairForcefitPace::memory_usage() {
    double bytes = Pair::memory_usage();
    bytes += double(rij_.capacity() + energies_.capacity() + pair_grad_.capacity()) * sizeof(double);
    bytes += double(first_.capacity() + neigh_.capacity()) * sizeof(std::int64_t);
    bytes += double(centres_.capacity() + centre_species_.capacity() + all_species_.capacity()) * sizeof(int);
    return bytes;
}

}  // namespace forcefit_lammps
