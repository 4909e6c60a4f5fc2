// KIM-API 2 model driver for forcefit ACE potentials (python-ace Ctilde .yace or B-basis .yaml
// parameter file).
//
// Model create: the one parameter file is read by forcefit::ace::read_potential_spec (a B-basis file is
// converted to the Ctilde form there) and compiled into a
// CtildeModel; species codes are the element indices of the file; one neighbour list with the largest
// bond cutoff, neighbours of non-contributing particles never requested.  Units: the simulator's
// requested length and energy units (the core works in Å and eV; lengths are divided by
// length_factor = Å -> requested on the way in, energies multiplied by energy_factor = eV -> requested
// on the way out).
// Compute: contributing particles are the centres, their KIM neighbour lists (which include
// non-contributing padding/ghost particles) the neighbours; CtildeModel::compute_pairs returns the
// per-atom energies and per-pair gradients g = dE_i/dr_ij (r_ij = x_j - x_i), which give
//   forces        f_i += g, f_j -= g,
//   virial        KIM's V = sum_pairs r_ij (x) g (Voigt xx yy zz yz xz xy), the negative of the
//                 LAMMPS/forcefit virial W,
//   particle virial  half of each pair term on i and half on j (components r_a g_b with a the
//                 first Voigt index: yz = r_y g_z, xz = r_x g_z, xy = r_x g_y, as LAMMPS tallies them).
// Mutable parameters (KIM SetParameterPointer; values in the simulator's requested units, like the
// outputs), applied by the Refresh routine, which recompiles the model from the edited spec:
//   E0            [nel]        energy of an isolated atom of each element (energy unit)
//   FS_parameters [sum 2*ndensity_mu]  per element, per density: embedding prefactor (energy unit) and
//                              exponent (dimensionless), (prefactor, exponent) pairs, element-major
//   prehc         [nel*nel]    core-repulsion prefactor per ordered bond mu_i*nel + mu_j (energy*length
//                              for the prehc*exp(-lambdahc r^2)/r core; dimensionless ZBL scale when the
//                              potential's inner_cutoff_type is zbl)
//   lambdahc      [nel*nel]    core-repulsion exponent per ordered bond (1/length^2; unused with zbl)
// Every argument is optional.  Errors (file, parse, unknown species) are logged and returned as true
// (KIM's failure status), never thrown across the C interface.
#include <cmath>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "KIM_LogMacros.hpp"
#include "KIM_ModelDriverHeaders.hpp"

#include "forcefit/ace/ctilde_model.hpp"
#include "forcefit/ace/bbasis_reader.hpp"

namespace {

struct Driver {
    forcefit::ace::CtildeSpec spec;  // Å, eV: what the model is compiled from
    std::unique_ptr<forcefit::ace::CtildeModel> model;
    bool zbl = false;                // inner_cutoff_type zbl: prehc is a dimensionless scale
    // published parameters in the requested units (see the file comment); Refresh copies them into spec
    std::vector<double> E0, fs_parameters, prehc, lambdahc;
    std::vector<double> cutsq;  // [nel*nel], requested length unit squared
    double influence = 0.0;                 // requested length unit
    double length_factor = 1.0;             // Å -> requested length unit
    double energy_factor = 1.0;             // eV -> requested energy unit
    int will_not_request_ghost_neighbours = 1;
    // work arrays
    std::vector<std::int32_t> centre_species, species;
    std::vector<std::int64_t> first, neigh;
    std::vector<int> centres;
    std::vector<double> rij, energies, pair_grad;
};

// published value = factor * internal (Å, eV) value
double prehc_factor(const Driver& d) { return d.zbl ? 1.0 : d.energy_factor * d.length_factor; }
double lambdahc_factor(const Driver& d) { return 1.0 / (d.length_factor * d.length_factor); }

void publish_parameters(Driver& d) {
    const double ef = d.energy_factor;
    d.E0.clear();
    d.fs_parameters.clear();
    d.prehc.clear();
    d.lambdahc.clear();
    for (double e : d.spec.E0) d.E0.push_back(ef * e);
    for (const auto& emb : d.spec.embeddings)
        for (std::size_t k = 0; k < emb.fs_parameters.size(); ++k)
            d.fs_parameters.push_back(k % 2 == 0 ? ef * emb.fs_parameters[k] : emb.fs_parameters[k]);
    for (const auto& b : d.spec.bonds) {
        d.prehc.push_back(prehc_factor(d) * b.prehc);
        d.lambdahc.push_back(lambdahc_factor(d) * b.lambdahc);
    }
}

void absorb_parameters(Driver& d) {
    const double ef = d.energy_factor;
    for (std::size_t mu = 0; mu < d.spec.E0.size(); ++mu) d.spec.E0[mu] = d.E0[mu] / ef;
    std::size_t k = 0;
    for (auto& emb : d.spec.embeddings)
        for (std::size_t q = 0; q < emb.fs_parameters.size(); ++q, ++k)
            emb.fs_parameters[q] = q % 2 == 0 ? d.fs_parameters[k] / ef : d.fs_parameters[k];
    for (std::size_t b = 0; b < d.spec.bonds.size(); ++b) {
        d.spec.bonds[b].prehc = d.prehc[b] / prehc_factor(d);
        d.spec.bonds[b].lambdahc = d.lambdahc[b] / lambdahc_factor(d);
    }
}

#define KIM_LOGGER_OBJECT_NAME mr
int refresh(KIM::ModelRefresh* const mr) {
    Driver* d = nullptr;
    mr->GetModelBufferPointer(reinterpret_cast<void**>(&d));
    absorb_parameters(*d);
    try {
        d->model = std::make_unique<forcefit::ace::CtildeModel>(d->spec, true);
    } catch (const std::exception& e) {
        LOG_ERROR(std::string("forcefit ACE driver: cannot apply the parameters: ") + e.what());
        return true;
    }
    // cutoffs are not parameters: influence distance and neighbour lists stay as they are
    mr->SetInfluenceDistancePointer(&d->influence);
    mr->SetNeighborListPointers(1, &d->influence, &d->will_not_request_ghost_neighbours);
    return false;
}
#undef KIM_LOGGER_OBJECT_NAME

int destroy(KIM::ModelDestroy* const md) {
    Driver* d = nullptr;
    md->GetModelBufferPointer(reinterpret_cast<void**>(&d));
    delete d;
    return false;
}

int compute_arguments_create(KIM::ModelCompute const* const, KIM::ModelComputeArgumentsCreate* const mcac) {
    using namespace KIM::COMPUTE_ARGUMENT_NAME;
    int error = mcac->SetArgumentSupportStatus(partialEnergy, KIM::SUPPORT_STATUS::optional) ||
                mcac->SetArgumentSupportStatus(partialForces, KIM::SUPPORT_STATUS::optional) ||
                mcac->SetArgumentSupportStatus(partialParticleEnergy, KIM::SUPPORT_STATUS::optional) ||
                mcac->SetArgumentSupportStatus(partialVirial, KIM::SUPPORT_STATUS::optional) ||
                mcac->SetArgumentSupportStatus(partialParticleVirial, KIM::SUPPORT_STATUS::optional);
    return error;
}

int compute_arguments_destroy(KIM::ModelCompute const* const, KIM::ModelComputeArgumentsDestroy* const) {
    return false;
}

#define KIM_LOGGER_OBJECT_NAME mca
int compute(KIM::ModelCompute const* const mc, KIM::ModelComputeArguments const* const mca) {
    Driver* d = nullptr;
    mc->GetModelBufferPointer(reinterpret_cast<void**>(&d));
    using namespace KIM::COMPUTE_ARGUMENT_NAME;
    int const* n_ptr = nullptr;
    int const* codes = nullptr;
    int const* contributing = nullptr;
    double const* x = nullptr;
    double* energy = nullptr;
    double* forces = nullptr;
    double* particle_energy = nullptr;
    double* virial = nullptr;
    double* particle_virial = nullptr;
    if (mca->GetArgumentPointer(numberOfParticles, &n_ptr) || mca->GetArgumentPointer(particleSpeciesCodes, &codes) ||
        mca->GetArgumentPointer(particleContributing, &contributing) || mca->GetArgumentPointer(coordinates, &x) ||
        mca->GetArgumentPointer(partialEnergy, &energy) || mca->GetArgumentPointer(partialForces, &forces) ||
        mca->GetArgumentPointer(partialParticleEnergy, &particle_energy) ||
        mca->GetArgumentPointer(partialVirial, &virial) ||
        mca->GetArgumentPointer(partialParticleVirial, &particle_virial)) {
        LOG_ERROR("forcefit ACE driver: cannot get compute arguments");
        return true;
    }
    const int n = *n_ptr;
    const int nel = d->model->nelements();
    d->species.assign(codes, codes + n);
    for (int i = 0; i < n; ++i)
        if (codes[i] < 0 || codes[i] >= nel) {
            LOG_ERROR("forcefit ACE driver: particle " + std::to_string(i) + " has unknown species code " +
                      std::to_string(codes[i]));
            return true;
        }
    d->centres.clear();
    d->centre_species.clear();
    d->neigh.clear();
    d->rij.clear();
    d->first.assign(1, 0);
    for (int i = 0; i < n; ++i) {
        if (!contributing[i]) continue;
        int nn = 0;
        int const* list = nullptr;
        if (mca->GetNeighborList(0, i, &nn, &list)) {
            LOG_ERROR("forcefit ACE driver: cannot get the neighbour list");
            return true;
        }
        const int mu_i = codes[i];
        d->centres.push_back(i);
        d->centre_species.push_back(mu_i);
        for (int k = 0; k < nn; ++k) {
            const int j = list[k];
            const double dx = x[3 * j] - x[3 * i], dy = x[3 * j + 1] - x[3 * i + 1], dz = x[3 * j + 2] - x[3 * i + 2];
            if (dx * dx + dy * dy + dz * dz >= d->cutsq[mu_i * nel + codes[j]]) continue;
            d->neigh.push_back(j);
            d->rij.push_back(dx / d->length_factor);
            d->rij.push_back(dy / d->length_factor);
            d->rij.push_back(dz / d->length_factor);
        }
        d->first.push_back(std::int64_t(d->neigh.size()));
    }
    const std::int64_t nc = std::int64_t(d->centres.size()), np = std::int64_t(d->neigh.size());
    d->energies.resize(nc);
    d->pair_grad.resize(3 * np);
    const bool need_grad = forces || virial || particle_virial;
    forcefit::ace::ComputeOptions opt;
    opt.forces = need_grad;
    opt.num_threads = 1;
    try {
        d->model->compute_pairs(nc, d->centre_species.data(), d->first.data(), n, d->species.data(),
                                d->neigh.data(), d->rij.data(), opt, d->energies.data(),
                                need_grad ? d->pair_grad.data() : nullptr);
    } catch (const std::exception& e) {
        LOG_ERROR(std::string("forcefit ACE driver: ") + e.what());
        return true;
    }

    if (energy) *energy = 0.0;
    if (forces)
        for (int k = 0; k < 3 * n; ++k) forces[k] = 0.0;
    if (particle_energy)
        for (int k = 0; k < n; ++k) particle_energy[k] = 0.0;
    if (virial)
        for (int k = 0; k < 6; ++k) virial[k] = 0.0;
    if (particle_virial)
        for (int k = 0; k < 6 * n; ++k) particle_virial[k] = 0.0;
    const double ef = d->energy_factor, gf = d->energy_factor / d->length_factor;
    for (std::int64_t c = 0; c < nc; ++c) {
        const int i = d->centres[c];
        if (energy) *energy += ef * d->energies[c];
        if (particle_energy) particle_energy[i] += ef * d->energies[c];
        if (!need_grad) continue;
        for (std::int64_t p = d->first[c]; p < d->first[c + 1]; ++p) {
            const int j = int(d->neigh[p]);
            const double* ga = &d->pair_grad[3 * p];
            const double* ra = &d->rij[3 * p];
            // requested units: g in energy/length, r in length (r (x) g: energy)
            const double g[3] = {gf * ga[0], gf * ga[1], gf * ga[2]};
            const double r[3] = {d->length_factor * ra[0], d->length_factor * ra[1], d->length_factor * ra[2]};
            if (forces)
                for (int a = 0; a < 3; ++a) {
                    forces[3 * i + a] += g[a];
                    forces[3 * j + a] -= g[a];
                }
            if (virial || particle_virial) {
                // position index first, gradient second, not symmetrised: LAMMPS's ev_tally_xyz convention,
                // so per-atom virials equal the plugin's (the pair term r (x) g is not symmetric when g is
                // not along r; the sum over all pairs is)
                const double v[6] = {r[0] * g[0], r[1] * g[1], r[2] * g[2], r[1] * g[2], r[0] * g[2], r[0] * g[1]};
                for (int a = 0; a < 6; ++a) {
                    if (virial) virial[a] += v[a];
                    if (particle_virial) {
                        particle_virial[6 * i + a] += 0.5 * v[a];
                        particle_virial[6 * j + a] += 0.5 * v[a];
                    }
                }
            }
        }
    }
    return false;
}
#undef KIM_LOGGER_OBJECT_NAME

}  // namespace

#define KIM_LOGGER_OBJECT_NAME mdc
extern "C" int model_driver_create(KIM::ModelDriverCreate* const mdc, KIM::LengthUnit const length_unit,
                                   KIM::EnergyUnit const energy_unit, KIM::ChargeUnit const,
                                   KIM::TemperatureUnit const, KIM::TimeUnit const) {
    int nfiles = 0;
    mdc->GetNumberOfParameterFiles(&nfiles);
    if (nfiles != 1) {
        LOG_ERROR("forcefit ACE driver: expected one parameter file (the .yace or .yaml potential), got " +
                  std::to_string(nfiles));
        return true;
    }
    std::string const* dir = nullptr;
    std::string const* base = nullptr;
    mdc->GetParameterFileDirectoryName(&dir);
    if (mdc->GetParameterFileBasename(0, &base)) {
        LOG_ERROR("forcefit ACE driver: cannot get the parameter file name");
        return true;
    }
    const std::string path = *dir + "/" + *base;
    auto d = std::make_unique<Driver>();
    const forcefit::ace::CtildeSpec& spec = d->spec;
    try {
        d->spec = forcefit::ace::read_potential_spec(path);
        d->model = std::make_unique<forcefit::ace::CtildeModel>(d->spec, true);
    } catch (const std::exception& e) {
        LOG_ERROR(std::string("forcefit ACE driver: ") + e.what());
        return true;
    }
    using namespace KIM;
    const LengthUnit lu = length_unit == LENGTH_UNIT::unused ? LENGTH_UNIT::A : length_unit;
    const EnergyUnit eu = energy_unit == ENERGY_UNIT::unused ? ENERGY_UNIT::eV : energy_unit;
    if (ModelDriverCreate::ConvertUnit(LENGTH_UNIT::A, ENERGY_UNIT::eV, CHARGE_UNIT::e, TEMPERATURE_UNIT::K,
                                       TIME_UNIT::ps, lu, eu, CHARGE_UNIT::e, TEMPERATURE_UNIT::K, TIME_UNIT::ps,
                                       1.0, 0.0, 0.0, 0.0, 0.0, &d->length_factor) ||
        ModelDriverCreate::ConvertUnit(LENGTH_UNIT::A, ENERGY_UNIT::eV, CHARGE_UNIT::e, TEMPERATURE_UNIT::K,
                                       TIME_UNIT::ps, lu, eu, CHARGE_UNIT::e, TEMPERATURE_UNIT::K, TIME_UNIT::ps,
                                       0.0, 1.0, 0.0, 0.0, 0.0, &d->energy_factor)) {
        LOG_ERROR("forcefit ACE driver: cannot convert Å and eV to the requested units");
        return true;
    }
    const int nel = d->model->nelements();
    d->cutsq.resize(std::size_t(nel) * nel);
    for (int a = 0; a < nel; ++a)
        for (int b = 0; b < nel; ++b) {
            const double rc = d->length_factor * d->model->cutoff(a, b);
            d->cutsq[a * nel + b] = rc * rc;
            d->influence = std::max(d->influence, rc);
        }
    int error = mdc->SetUnits(lu, eu, CHARGE_UNIT::unused, TEMPERATURE_UNIT::unused, TIME_UNIT::unused) ||
                mdc->SetModelNumbering(NUMBERING::zeroBased);
    for (int mu = 0; mu < nel && !error; ++mu) error = mdc->SetSpeciesCode(KIM::SpeciesName(spec.elements[mu]), mu);
    if (error) {
        LOG_ERROR("forcefit ACE driver: cannot set units, numbering or species (unknown element symbol?)");
        return true;
    }
    d->zbl = !spec.bonds.empty() && spec.bonds[0].inner == forcefit::ace::InnerCutoffKind::Zbl;
    publish_parameters(*d);
    const std::string energy_unit_name = eu.ToString(), length_unit_name = lu.ToString();
    const std::string prehc_unit =
        d->zbl ? "dimensionless ZBL scale (inner_cutoff_type zbl)" : energy_unit_name + "*" + length_unit_name;
    error = mdc->SetParameterPointer(int(d->E0.size()), d->E0.data(), "E0",
                                     "energy of an isolated atom per element, in species-code order (" +
                                         energy_unit_name + ")") ||
            mdc->SetParameterPointer(int(d->fs_parameters.size()), d->fs_parameters.data(), "FS_parameters",
                                     "embedding F = sum_p a_p f(rho_p; m_p): (a_p in " + energy_unit_name +
                                         ", m_p dimensionless) pairs per density, elements in species-code order") ||
            mdc->SetParameterPointer(int(d->prehc.size()), d->prehc.data(), "prehc",
                                     "core-repulsion prefactor per ordered bond mu_i*nelements + mu_j (" +
                                         prehc_unit + ")") ||
            mdc->SetParameterPointer(int(d->lambdahc.size()), d->lambdahc.data(), "lambdahc",
                                     "core-repulsion exponent per ordered bond mu_i*nelements + mu_j (1/" +
                                         length_unit_name + "^2)");
    if (error) {
        LOG_ERROR("forcefit ACE driver: cannot publish parameters");
        return true;
    }
    mdc->SetInfluenceDistancePointer(&d->influence);
    mdc->SetNeighborListPointers(1, &d->influence, &d->will_not_request_ghost_neighbours);
    error = mdc->SetRoutinePointer(KIM::MODEL_ROUTINE_NAME::Destroy, KIM::LANGUAGE_NAME::cpp, true,
                                   reinterpret_cast<KIM::Function*>(destroy)) ||
            mdc->SetRoutinePointer(KIM::MODEL_ROUTINE_NAME::Compute, KIM::LANGUAGE_NAME::cpp, true,
                                   reinterpret_cast<KIM::Function*>(compute)) ||
            mdc->SetRoutinePointer(KIM::MODEL_ROUTINE_NAME::Refresh, KIM::LANGUAGE_NAME::cpp, true,
                                   reinterpret_cast<KIM::Function*>(refresh)) ||
            mdc->SetRoutinePointer(KIM::MODEL_ROUTINE_NAME::ComputeArgumentsCreate, KIM::LANGUAGE_NAME::cpp, true,
                                   reinterpret_cast<KIM::Function*>(compute_arguments_create)) ||
            mdc->SetRoutinePointer(KIM::MODEL_ROUTINE_NAME::ComputeArgumentsDestroy, KIM::LANGUAGE_NAME::cpp, true,
                                   reinterpret_cast<KIM::Function*>(compute_arguments_destroy));
    if (error) {
        LOG_ERROR("forcefit ACE driver: cannot register routines");
        return true;
    }
    mdc->SetModelBufferPointer(d.release());
    return false;
}
#undef KIM_LOGGER_OBJECT_NAME
