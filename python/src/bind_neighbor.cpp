// Bindings of the neighbor-list core: pair lists, padding atoms, force and stress assembly.
// Arrays come in as C-contiguous float64/int32 (converted when needed) and go out as numpy arrays
// that take ownership of the core's std::vector buffers (no copies).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "forcefit/error.hpp"
#include "forcefit/neighbor_list.hpp"
#include "forcefit/padding.hpp"

namespace py = pybind11;

namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;
using BoolArray = py::array_t<bool, py::array::c_style | py::array::forcecast>;

std::string shape_of(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
    return s + (a.ndim() == 1 ? ",)" : ")");
}

// Throws InputError unless `a` has shape `expected` (-1 = any length).
void require_shape(const py::array& a, const char* name, std::vector<py::ssize_t> expected) {
    bool ok = a.ndim() == py::ssize_t(expected.size());
    for (std::size_t d = 0; ok && d < expected.size(); ++d)
        ok = expected[d] < 0 || a.shape(d) == expected[d];
    if (!ok) {
        std::string want = "(";
        for (std::size_t d = 0; d < expected.size(); ++d)
            want += (d ? ", " : "") + (expected[d] < 0 ? std::string("N") : std::to_string(expected[d]));
        want += expected.size() == 1 ? ",)" : ")";
        throw forcefit::InputError(std::string(name) + ": expected shape " + want + ", got " + shape_of(a));
    }
}

// A numpy array that owns `data` (moved to the heap, freed with the array).
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& data, std::vector<py::ssize_t> shape) {
    auto* owner = new std::vector<T>(std::move(data));
    py::capsule free_owner(owner, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array_t<T>(shape, owner->data(), free_owner);
}

forcefit::AtomsView atoms_view(const DoubleArray& positions, const DoubleArray& cell, const BoolArray& pbc) {
    require_shape(positions, "positions", {-1, 3});
    require_shape(cell, "cell", {3, 3});
    require_shape(pbc, "pbc", {3});
    forcefit::AtomsView view;
    view.positions = positions.data();
    view.n_atoms = static_cast<std::size_t>(positions.shape(0));
    view.cell = cell.data();
    view.pbc = pbc.data();
    return view;
}

py::dict pairs_to_dict(forcefit::NeighborPairs&& pairs, const forcefit::NeighborListOptions& opt) {
    const auto n = static_cast<py::ssize_t>(pairs.size());
    const auto n_first = static_cast<py::ssize_t>(pairs.first.size());
    py::dict out;
    out["first"] = to_numpy(std::move(pairs.first), {n_first});
    out["i"] = to_numpy(std::move(pairs.i), {n});
    out["j"] = to_numpy(std::move(pairs.j), {n});
    if (opt.want_shifts) out["S"] = to_numpy(std::move(pairs.shifts), {n, 3});
    if (opt.want_vectors) out["D"] = to_numpy(std::move(pairs.vectors), {n, 3});
    if (opt.want_distances) out["d"] = to_numpy(std::move(pairs.distances), {n});
    return out;
}

forcefit::NeighborListOptions make_options(bool self_interaction, bool shifts, bool vectors,
                                           bool distances, std::int64_t n_centers) {
    forcefit::NeighborListOptions opt;
    opt.self_interaction = self_interaction;
    opt.want_shifts = shifts;
    opt.want_vectors = vectors;
    opt.want_distances = distances;
    opt.n_centers = n_centers;
    return opt;
}

}  // namespace

void forcefit::python::bind_neighbor(py::module_& m) {
    m.def(
        "neighbor_list",
        [](DoubleArray positions, DoubleArray cell, BoolArray pbc, double cutoff, bool self_interaction,
           bool shifts, bool vectors, bool distances, std::int64_t n_centers) {
            const auto view = atoms_view(positions, cell, pbc);
            const auto opt = make_options(self_interaction, shifts, vectors, distances, n_centers);
            forcefit::NeighborPairs pairs;
            {
                py::gil_scoped_release release;
                pairs = forcefit::build_neighbor_list(view, cutoff, opt);
            }
            return pairs_to_dict(std::move(pairs), opt);
        },
        py::arg("positions"), py::arg("cell"), py::arg("pbc"), py::arg("cutoff"),
        py::arg("self_interaction") = false, py::arg("shifts") = true, py::arg("vectors") = false,
        py::arg("distances") = false, py::arg("n_centers") = -1,
        "Full neighbor list (ASE's definition) with one cutoff (Å). positions (N,3) Å, cell (3,3) rows "
        "= lattice vectors, pbc (3,). Returns a dict of arrays: first (N+1,) int64 CSR offsets, i, j "
        "(P,) int32, and on request S (P,3) int32, D (P,3) Å, d (P,) Å; pairs sorted by i.");

    m.def(
        "neighbor_list_species",
        [](DoubleArray positions, DoubleArray cell, BoolArray pbc, IntArray species, DoubleArray cutoffs,
           bool self_interaction, bool shifts, bool vectors, bool distances, std::int64_t n_centers) {
            const auto view = atoms_view(positions, cell, pbc);
            require_shape(species, "species", {positions.shape(0)});
            if (cutoffs.ndim() != 2 || cutoffs.shape(0) != cutoffs.shape(1) || cutoffs.shape(0) == 0)
                throw forcefit::InputError("cutoffs: expected a square (S, S) matrix, got shape " +
                                           shape_of(cutoffs));
            forcefit::SpeciesCutoffs sc;
            sc.species = species.data();
            sc.matrix = cutoffs.data();
            sc.n_species = static_cast<int>(cutoffs.shape(0));
            const auto opt = make_options(self_interaction, shifts, vectors, distances, n_centers);
            forcefit::NeighborPairs pairs;
            {
                py::gil_scoped_release release;
                pairs = forcefit::build_neighbor_list(view, sc, opt);
            }
            return pairs_to_dict(std::move(pairs), opt);
        },
        py::arg("positions"), py::arg("cell"), py::arg("pbc"), py::arg("species"), py::arg("cutoffs"),
        py::arg("self_interaction") = false, py::arg("shifts") = true, py::arg("vectors") = false,
        py::arg("distances") = false, py::arg("n_centers") = -1,
        "Full neighbor list with per-species-pair cutoffs: species (N,) int32 in [0, S), cutoffs (S,S) "
        "symmetric Å (0 = no pairs). Same result dict as neighbor_list.");

    m.def(
        "create_padding",
        [](DoubleArray positions, DoubleArray cell, BoolArray pbc, double infl_dist) {
            const auto view = atoms_view(positions, cell, pbc);
            forcefit::Padding pad;
            {
                py::gil_scoped_release release;
                pad = forcefit::create_padding(view, infl_dist);
            }
            const auto n = static_cast<py::ssize_t>(pad.size());
            return py::make_tuple(to_numpy(std::move(pad.positions), {n, 3}),
                                  to_numpy(std::move(pad.image), {n}), to_numpy(std::move(pad.shifts), {n, 3}));
        },
        py::arg("positions"), py::arg("cell"), py::arg("pbc"), py::arg("infl_dist"),
        "KLIFF/KIM padding atoms within infl_dist (Å). Returns (coords (P,3) Å, image (P,) int32, "
        "shifts (P,3) int32).");

    m.def(
        "assemble_forces",
        [](DoubleArray forces, std::int64_t n, IntArray padding_image) {
            require_shape(forces, "forces", {-1, 3});
            require_shape(padding_image, "padding_image", {-1});
            if (n < 0 || n + padding_image.shape(0) != forces.shape(0))
                throw forcefit::InputError("forces: " + std::to_string(forces.shape(0)) + " rows, but n=" +
                                           std::to_string(n) + " contributing + " +
                                           std::to_string(padding_image.shape(0)) + " padding atoms");
            auto total = forcefit::assemble_forces(forces.data(), std::size_t(forces.shape(0)), std::size_t(n),
                                                   padding_image.data());
            return to_numpy(std::move(total), {static_cast<py::ssize_t>(n), 3});
        },
        py::arg("forces"), py::arg("n"), py::arg("padding_image"),
        "Fold forces (N_all,3) eV/Å on padding atoms onto their images; returns (n,3).");

    m.def(
        "assemble_stress",
        [](DoubleArray coords, DoubleArray forces, double volume) {
            require_shape(coords, "coords", {-1, 3});
            require_shape(forces, "forces", {coords.shape(0), 3});
            const auto s = forcefit::assemble_stress(coords.data(), forces.data(), std::size_t(coords.shape(0)),
                                                     volume);
            return to_numpy(std::vector<double>(s.begin(), s.end()), {6});
        },
        py::arg("coords"), py::arg("forces"), py::arg("volume"),
        "Virial stress -sum r_a f_b / V (eV/Å^3), Voigt xx yy zz yz xz xy.");
}
