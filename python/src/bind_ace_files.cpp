// Python bindings of the C++ potential-file readers (the ones the LAMMPS plugin and the KIM driver use):
// the Ctilde spec of a .yace or B-basis .yaml file as plain Python data, and a compiled AceCtildeModel
// straight from a file, so that tests compare the C++ path with forcefit.ace's Python readers.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "forcefit/ace/bbasis_reader.hpp"
#include "forcefit/ace/coupling.hpp"
#include "forcefit/ace/ctilde_model.hpp"

namespace py = pybind11;
using namespace forcefit::ace;

namespace {

const char* embedding_name(EmbeddingKind k) {
    return k == EmbeddingKind::FinnisSinclair ? "FinnisSinclair" : "FinnisSinclairShiftedScaled";
}
const char* radial_name(RadialBasisKind k) {
    switch (k) {
        case RadialBasisKind::ChebExpCos: return "ChebExpCos";
        case RadialBasisKind::ChebPow: return "ChebPow";
        case RadialBasisKind::ChebLinear: return "ChebLinear";
        default: return "SBessel";
    }
}
const char* inner_name(InnerCutoffKind k) {
    return k == InnerCutoffKind::Density ? "density" : k == InnerCutoffKind::Distance ? "distance" : "zbl";
}

template <class T>
py::array_t<T> array(const std::vector<T>& v, std::vector<py::ssize_t> shape) {
    py::array_t<T> a(shape);
    std::copy(v.begin(), v.end(), a.mutable_data());
    return a;
}

py::dict spec_to_python(const CtildeSpec& spec) {
    py::dict d;
    d["elements"] = spec.elements;
    d["E0"] = spec.E0;
    d["deltaSplineBins"] = spec.delta_spline_bins;
    py::list embeddings, bonds, functions;
    for (const auto& e : spec.embeddings) {
        py::dict x;
        x["npoti"] = embedding_name(e.kind);
        x["ndensity"] = e.ndensity;
        x["FS_parameters"] = e.fs_parameters;
        x["rho_core_cutoff"] = e.rho_core_cutoff;
        x["drho_core_cutoff"] = e.drho_core_cutoff;
        embeddings.append(x);
    }
    for (const auto& b : spec.bonds) {
        py::dict x;
        x["radbasename"] = radial_name(b.basis);
        x["nradmax"] = b.nradmax;
        x["lmax"] = b.lmax;
        x["nradbasemax"] = b.nradbase;
        x["lambda"] = b.lambda;
        x["radcoefficients"] = array(b.crad, {b.nradmax, b.lmax + 1, b.nradbase});
        x["prehc"] = b.prehc;
        x["lambdahc"] = b.lambdahc;
        x["rcut"] = b.rcut;
        x["dcut"] = b.dcut;
        x["rcut_in"] = b.rcut_in;
        x["dcut_in"] = b.dcut_in;
        x["inner_cutoff_type"] = inner_name(b.inner);
        bonds.append(x);
    }
    for (const auto& funcs : spec.functions) {
        py::list per_species;
        for (const auto& f : funcs) {
            const py::ssize_t n = py::ssize_t(f.ctildes.size()) / f.ndensity;
            py::dict x;
            x["rank"] = f.rank;
            x["ndensity"] = f.ndensity;
            x["mus"] = f.mus;
            x["ns"] = f.ns;
            x["ls"] = f.ls;
            x["ms_combs"] = array(f.ms, {n, f.rank});
            x["ctildes"] = array(f.ctildes, {n, f.ndensity});
            per_species.append(x);
        }
        functions.append(per_species);
    }
    d["embeddings"] = embeddings;
    d["bonds"] = bonds;
    d["functions"] = functions;
    return d;
}

}  // namespace

void forcefit::python::bind_ace_files(py::module_& m) {
    m.def(
        "ace_read_potential_spec", [](const std::string& path) { return spec_to_python(read_potential_spec(path)); },
        py::arg("path"),
        "The Ctilde potential of a .yace or B-basis .yaml file as read by the C++ core (LAMMPS plugin, KIM "
        "driver): dict with elements, E0 [nel] (eV), deltaSplineBins (Å), embeddings [nel], bonds "
        "[nel*nel] (mu_i*nel + mu_j; radcoefficients [nradmax, lmax+1, nradbasemax]) and functions "
        "[nel][...] (ms_combs [n, rank], ctildes [n, ndensity]). Raises forcefit.errors.InputError.");
    m.def(
        "ace_model_from_file",
        [](const std::string& path, bool share_products) {
            return new CtildeModel(read_potential_spec(path), share_products);
        },
        py::arg("path"), py::arg("share_products") = true,
        "An AceCtildeModel compiled from a .yace or B-basis .yaml file by the C++ readers.");
    m.def(
        "ace_generalized_cg",
        [](const std::vector<int>& ls, const std::vector<int>& lint, bool half_basis) {
            ClebschGordanTables tables;
            const GeneralizedCG g = generalized_cg(ls, lint, half_basis, tables);
            return py::make_tuple(array(g.ms, {py::ssize_t(g.size()), g.rank}), array(g.cg, {py::ssize_t(g.size())}));
        },
        py::arg("ls"), py::arg("lint"), py::arg("half_basis") = true,
        "(ms [ncomb, rank] int, cg [ncomb]) of a B function, as the C++ B-basis converter computes them "
        "(the twin of forcefit.ace.coupling.generalized_cg).");
}
