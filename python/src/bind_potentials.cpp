// Bindings of the physics potentials (forcefit/potential.hpp): one Python class per potential,
// all sharing `compute(...)`, which takes the flat batch arrays of
// forcefit.models.batch.NeighborBatch and returns a dict of numpy arrays.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "bindings.hpp"
#include "forcefit/edip.hpp"
#include "forcefit/error.hpp"
#include "forcefit/lj.hpp"
#include "forcefit/potential.hpp"
#include "forcefit/sw.hpp"

namespace py = pybind11;

namespace {

template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

void check_shape(const py::array& arr, const char* name, std::initializer_list<py::ssize_t> shape) {
    bool ok = arr.ndim() == static_cast<py::ssize_t>(shape.size());
    std::size_t k = 0;
    for (auto s : shape) {
        if (ok && arr.shape(k) != s) ok = false;
        ++k;
    }
    if (!ok) {
        std::string want = "(";
        k = 0;
        for (auto s : shape) want += (k++ ? ", " : "") + std::to_string(s);
        want += shape.size() == 1 ? ",)" : ")";
        std::string got = "(";
        for (py::ssize_t d = 0; d < arr.ndim(); ++d) got += (d ? ", " : "") + std::to_string(arr.shape(d));
        got += arr.ndim() == 1 ? ",)" : ")";
        throw forcefit::InputError(std::string(name) + " must have shape " + want + ", got " + got);
    }
}

// The batch view of the flat arrays of forcefit.models.batch.NeighborBatch, shapes checked.
forcefit::BatchView batch_view(const forcefit::Potential& pot, const carray<std::int64_t>& atom_offset,
                               const carray<std::int32_t>& species, const carray<std::int64_t>& first,
                               const carray<std::int32_t>& neigh, const carray<double>& rij,
                               const carray<double>& volume, double cutoff, const carray<double>& params) {
    if (atom_offset.ndim() != 1 || atom_offset.shape(0) < 1) {
        throw forcefit::InputError("atom_offset must be a 1-D array of length n_configs + 1");
    }
    const py::ssize_t C = atom_offset.shape(0) - 1;
    const py::ssize_t N = species.ndim() == 1 ? species.shape(0) : -1;
    const py::ssize_t P = neigh.ndim() == 1 ? neigh.shape(0) : -1;
    check_shape(species, "species", {N});
    check_shape(first, "first", {N + 1});
    check_shape(neigh, "neigh", {P});
    check_shape(rij, "rij", {P, 3});
    check_shape(volume, "volume", {C});
    check_shape(params, "params", {static_cast<py::ssize_t>(pot.num_params())});
    forcefit::BatchView b;
    b.n_configs = C;
    b.n_atoms = N;
    b.n_pairs = P;
    b.cutoff = cutoff;
    b.atom_offset = atom_offset.data();
    b.species = species.data();
    b.first = first.data();
    b.neigh = neigh.data();
    b.rij = rij.data();
    b.volume = volume.data();
    return b;
}

py::ssize_t selected_columns(const forcefit::Potential& pot, const std::optional<carray<std::int32_t>>& selected,
                             forcefit::Outputs& out) {
    if (!selected) return static_cast<py::ssize_t>(pot.num_params());
    if (selected->ndim() != 1) throw forcefit::InputError("selected must be a 1-D array of parameter indices");
    out.selected = selected->data();
    out.n_selected = static_cast<std::size_t>(selected->shape(0));
    return selected->shape(0);
}

py::dict compute(const forcefit::Potential& pot, const carray<std::int64_t>& atom_offset,
                 const carray<std::int32_t>& species, const carray<std::int64_t>& first,
                 const carray<std::int32_t>& neigh, const carray<double>& rij, const carray<double>& volume,
                 double cutoff, const carray<double>& params, bool energy, bool forces, bool stress,
                 bool param_derivs, const std::optional<carray<std::int32_t>>& selected) {
    const forcefit::BatchView b = batch_view(pot, atom_offset, species, first, neigh, rij, volume, cutoff, params);
    const py::ssize_t C = b.n_configs, N = b.n_atoms;
    forcefit::Outputs out;
    const py::ssize_t np = selected_columns(pot, selected, out);  // columns of the derivative outputs

    py::dict result;
    auto make = [&](const char* key, std::vector<py::ssize_t> shape) {
        py::array_t<double> arr(shape);
        result[key] = arr;
        return arr.mutable_data();
    };
    if (energy) {
        out.energy = make("energy", {C});
        out.atom_energy = make("atom_energy", {N});
    }
    if (forces) out.forces = make("forces", {N, 3});
    if (stress) out.stress = make("stress", {C, 6});
    if (param_derivs) {
        if (energy) out.denergy = make("denergy", {C, np});
        if (forces) out.dforces = make("dforces", {N, 3, np});
        if (stress) out.dstress = make("dstress", {C, 6, np});
    }
    {
        py::gil_scoped_release release;
        pot.compute(b, params.data(), out);
    }
    return result;
}

// A caller-owned float64 output array of the given shape (C order, writable), or nullptr for None.
double* output_buffer(const std::optional<py::array>& arr, const char* name, std::initializer_list<py::ssize_t> shape) {
    if (!arr) return nullptr;
    check_shape(*arr, name, shape);
    if (!arr->dtype().is(py::dtype::of<double>()) || !(arr->flags() & py::array::c_style) || !arr->writeable()) {
        throw forcefit::InputError(std::string(name) + " must be a writable C-contiguous float64 array");
    }
    py::array writable = *arr;  // a second handle to the caller's buffer
    return static_cast<double*>(writable.mutable_data());
}

// A read-only residual input of the given shape, or nullptr for None.
const double* residual_input(const std::optional<carray<double>>& arr, const char* name,
                             std::initializer_list<py::ssize_t> shape) {
    if (!arr) return nullptr;
    check_shape(*arr, name, shape);
    return arr->data();
}

py::tuple loss_gradient(const forcefit::Potential& pot, const carray<std::int64_t>& atom_offset,
                        const carray<std::int32_t>& species, const carray<std::int64_t>& first,
                        const carray<std::int32_t>& neigh, const carray<double>& rij, const carray<double>& volume,
                        double cutoff, const carray<double>& params,
                        const std::optional<carray<std::int32_t>>& selected,
                        const std::optional<carray<double>>& energy_scale,
                        const std::optional<carray<double>>& energy_ref,
                        const std::optional<carray<double>>& forces_scale,
                        const std::optional<carray<double>>& forces_ref,
                        const std::optional<carray<double>>& stress_scale,
                        const std::optional<carray<double>>& stress_ref, const std::optional<py::array>& energy,
                        const std::optional<py::array>& forces, const std::optional<py::array>& stress,
                        const std::optional<py::array>& residuals, const std::optional<py::array>& jacobian) {
    const forcefit::BatchView b = batch_view(pot, atom_offset, species, first, neigh, rij, volume, cutoff, params);
    const py::ssize_t C = b.n_configs, N = b.n_atoms;
    forcefit::Outputs out;
    const py::ssize_t np = selected_columns(pot, selected, out);
    forcefit::Residuals res;
    res.energy_scale = residual_input(energy_scale, "energy_scale", {C});
    res.energy_ref = residual_input(energy_ref, "energy_ref", {C});
    res.forces_scale = residual_input(forces_scale, "forces_scale", {N, 3});
    res.forces_ref = residual_input(forces_ref, "forces_ref", {N, 3});
    res.stress_scale = residual_input(stress_scale, "stress_scale", {C, 6});
    res.stress_ref = residual_input(stress_ref, "stress_ref", {C, 6});
    out.energy = output_buffer(energy, "energy", {C});
    out.forces = output_buffer(forces, "forces", {N, 3});
    out.stress = output_buffer(stress, "stress", {C, 6});
    const py::ssize_t R = (res.energy_scale ? C : 0) + (res.forces_scale ? 3 * N : 0) + (res.stress_scale ? 6 * C : 0);
    res.residual_rows = output_buffer(residuals, "residuals", {R});
    res.jacobian_rows = output_buffer(jacobian, "jacobian", {R, np});
    py::array_t<double> gradient(np);
    double loss = 0.0;
    {
        py::gil_scoped_release release;
        loss = pot.loss_gradient(b, params.data(), res, out, gradient.mutable_data());
    }
    return py::make_tuple(loss, gradient);
}

std::vector<std::pair<std::string, std::size_t>> blocks(const forcefit::Potential& pot) {
    std::vector<std::pair<std::string, std::size_t>> r;
    for (const auto& bl : pot.parameter_blocks()) r.emplace_back(bl.name, bl.size);
    return r;
}

}  // namespace

void forcefit::python::bind_potentials(py::module_& m) {
    py::class_<forcefit::Potential>(m, "Potential",
                                    "Common interface of the physics potentials (energies eV, lengths Å).")
        .def_property_readonly("num_species", &forcefit::Potential::num_species)
        .def_property_readonly("num_params", &forcefit::Potential::num_params)
        .def("parameter_blocks", &blocks, "[(name, size), ...] layout of the flat parameter vector.")
        .def(
            "influence_distance",
            [](const forcefit::Potential& pot, const carray<double>& params) {
                check_shape(params, "params", {static_cast<py::ssize_t>(pot.num_params())});
                return pot.influence_distance(params.data());
            },
            py::arg("params"), "Largest interaction distance (Å) for these parameters.")
        .def("compute", &compute, py::arg("atom_offset"), py::arg("species"), py::arg("first"), py::arg("neigh"),
             py::arg("rij"), py::arg("volume"), py::arg("cutoff"), py::arg("params"), py::arg("energy") = true,
             py::arg("forces") = true, py::arg("stress") = false, py::arg("param_derivs") = false,
             py::arg("selected") = py::none(),
             "Energies [C] and atom_energy [N] (eV), forces [N,3] (eV/Å), stress [C,6] (eV/Å^3, ASE sign, "
             "Voigt xx yy zz yz xz xy, NaN for volume 0) and, with param_derivs, denergy [C,P], "
             "dforces [N,3,P], dstress [C,6,P] (P = all parameters, or the flat indices in `selected`, in that "
             "order). Returns a dict of the requested arrays.")
        .def("loss_gradient", &loss_gradient, py::arg("atom_offset"), py::arg("species"), py::arg("first"),
             py::arg("neigh"), py::arg("rij"), py::arg("volume"), py::arg("cutoff"), py::arg("params"),
             py::arg("selected") = py::none(), py::arg("energy_scale") = py::none(),
             py::arg("energy_ref") = py::none(), py::arg("forces_scale") = py::none(),
             py::arg("forces_ref") = py::none(), py::arg("stress_scale") = py::none(),
             py::arg("stress_ref") = py::none(), py::arg("energy") = py::none(), py::arg("forces") = py::none(),
             py::arg("stress") = py::none(), py::arg("residuals") = py::none(), py::arg("jacobian") = py::none(),
             "(loss, gradient [P]) of the residuals scale * (prediction - reference) (energy_scale/ref [C], "
             "forces_scale/ref [N,3], stress_scale/ref [C,6]; scale 0 = not fitted), loss = 1/2 sum(residual^2), "
             "gradient with respect to all parameters or those in `selected`. Fills the caller's energy [C], "
             "forces [N,3], stress [C,6] buffers (needed for the fitted properties); the parameter derivatives "
             "are contracted per configuration and never stored. Optional buffers `residuals` [R] and `jacobian` "
             "[R,P] receive the residuals and scale * d prediction/dθ, rows [energies C, forces 3N, stress 6C] of "
             "the fitted properties, 0 where not fitted.");

    py::class_<forcefit::LennardJones, forcefit::Potential>(m, "LennardJonesKernel")
        .def(py::init<int, bool>(), py::arg("n_species"), py::arg("shifted"))
        .def_property_readonly("shifted", &forcefit::LennardJones::shifted);
    py::class_<forcefit::StillingerWeber, forcefit::Potential>(m, "StillingerWeberKernel")
        .def(py::init<int>(), py::arg("n_species"));
    py::class_<forcefit::EDIP, forcefit::Potential>(m, "EDIPKernel").def(py::init<>());
}
