// Python bindings of the Ctilde ACE model: converts a forcefit.ace.CtildePotential into the C++ spec and
// exposes compute() on numpy CSR neighbour lists.
#include <pybind11/complex.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "forcefit/ace/ctilde_gradients.hpp"
#include "forcefit/ace/ctilde_jacobian.hpp"
#include "forcefit/ace/ctilde_model.hpp"
#include "forcefit/ace/yace_reader.hpp"
#include "forcefit/error.hpp"

namespace py = pybind11;
using forcefit::InputError;
using namespace forcefit::ace;

namespace {

template <class T>
std::vector<T> as_vector(const py::handle& obj) {
    auto arr = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(obj);
    if (!arr) throw InputError("ACE potential: expected a numeric array");
    return std::vector<T>(arr.data(), arr.data() + arr.size());
}

CtildeSpec spec_from_python(const py::object& pot, const std::vector<int>& atomic_numbers) {
    CtildeSpec spec;
    spec.elements = pot.attr("elements").cast<std::vector<std::string>>();
    const int nel = int(spec.elements.size());
    spec.E0 = as_vector<double>(pot.attr("E0"));
    spec.delta_spline_bins = pot.attr("deltaSplineBins").cast<double>();
    py::dict embeddings = pot.attr("embeddings"), bonds = pot.attr("bonds"), functions = pot.attr("functions");
    for (int mu = 0; mu < nel; ++mu) {
        if (!embeddings.contains(py::int_(mu))) throw InputError("ACE potential: missing embedding " + std::to_string(mu));
        py::object e = embeddings[py::int_(mu)];
        EmbeddingSpec es;
        es.kind = embedding_from_name(e.attr("npoti").cast<std::string>());
        es.ndensity = e.attr("ndensity").cast<int>();
        es.fs_parameters = as_vector<double>(e.attr("FS_parameters"));
        es.rho_core_cutoff = e.attr("rho_core_cutoff").cast<double>();
        es.drho_core_cutoff = e.attr("drho_core_cutoff").cast<double>();
        spec.embeddings.push_back(es);
    }
    for (int mi = 0; mi < nel; ++mi)
        for (int mj = 0; mj < nel; ++mj) {
            py::tuple key = py::make_tuple(mi, mj);
            if (!bonds.contains(key))
                throw InputError("ACE potential: missing bond [" + std::to_string(mi) + ", " + std::to_string(mj) + "]");
            py::object b = bonds[key];
            BondSpec bs;
            bs.basis = radial_basis_from_name(b.attr("radbasename").cast<std::string>());
            bs.nradmax = b.attr("nradmax").cast<int>();
            bs.lmax = b.attr("lmax").cast<int>();
            bs.nradbase = b.attr("nradbasemax").cast<int>();
            auto radpar = as_vector<double>(b.attr("radparameters"));
            bs.lambda = radpar.empty() ? 1.0 : radpar[0];
            bs.crad = as_vector<double>(b.attr("radcoefficients"));
            bs.prehc = b.attr("prehc").cast<double>();
            bs.lambdahc = b.attr("lambdahc").cast<double>();
            bs.rcut = b.attr("rcut").cast<double>();
            bs.dcut = b.attr("dcut").cast<double>();
            bs.rcut_in = b.attr("rcut_in").cast<double>();
            bs.dcut_in = b.attr("dcut_in").cast<double>();
            bs.inner = inner_cutoff_from_name(b.attr("inner_cutoff_type").cast<std::string>());
            if (mi < int(atomic_numbers.size())) bs.z_i = atomic_numbers[mi];
            if (mj < int(atomic_numbers.size())) bs.z_j = atomic_numbers[mj];
            spec.bonds.push_back(std::move(bs));
        }
    spec.functions.resize(nel);
    for (int mu = 0; mu < nel; ++mu) {
        if (!functions.contains(py::int_(mu))) continue;
        for (const py::handle& f : py::list(functions[py::int_(mu)])) {
            CtildeFunctionSpec fs;
            fs.rank = f.attr("rank").cast<int>();
            fs.ndensity = f.attr("ndensity").cast<int>();
            fs.mus = as_vector<int>(f.attr("mus"));
            fs.ns = as_vector<int>(f.attr("ns"));
            fs.ls = as_vector<int>(f.attr("ls"));
            fs.ms = as_vector<int>(f.attr("ms_combs"));
            fs.ctildes = as_vector<double>(f.attr("ctildes"));
            spec.functions[mu].push_back(std::move(fs));
        }
    }
    return spec;
}

using I32 = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;
using I64 = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using F64 = py::array_t<double, py::array::c_style | py::array::forcecast>;

}  // namespace

void forcefit::python::bind_ace(py::module_& m) {
    m.def(
        "ace_spherical_harmonics",
        [](int lmax, F64 unit_vectors) {
            if (unit_vectors.ndim() != 2 || unit_vectors.shape(1) != 3)
                throw InputError("ace_spherical_harmonics: unit_vectors must have shape (n, 3)");
            SphericalHarmonics sh(lmax);
            const py::ssize_t n = unit_vectors.shape(0), nlm = lm_count(lmax);
            py::array_t<cdouble> y(std::vector<py::ssize_t>{n, nlm}), dy(std::vector<py::ssize_t>{n, nlm, 3});
            for (py::ssize_t k = 0; k < n; ++k)
                sh.compute(unit_vectors.data() + 3 * k, y.mutable_data() + k * nlm, dy.mutable_data() + k * nlm * 3);
            return py::make_tuple(y, dy);
        },
        py::arg("lmax"), py::arg("unit_vectors"),
        "python-ace's Y_lm (sqrt(4 pi) x orthonormal, Condon-Shortley), m >= 0 at l(l+1)/2 + m, and their "
        "tangential gradients [n, lm, 3].");

    m.def(
        "ace_embedding",
        [](const std::string& npoti, F64 rho, double mexp) {
            const EmbeddingKind kind = embedding_from_name(npoti);
            const py::ssize_t n = rho.size();
            py::array_t<double> f(n), df(n), d2f(n);
            for (py::ssize_t k = 0; k < n; ++k) {
                embedding_value(kind, rho.data()[k], mexp, f.mutable_data()[k], df.mutable_data()[k]);
                d2f.mutable_data()[k] = embedding_second(kind, rho.data()[k], mexp);
            }
            return py::make_tuple(f, df, d2f);
        },
        py::arg("npoti"), py::arg("rho"), py::arg("mexp"),
        "One embedding term f(rho; mexp) without prefactor, as the evaluator uses it: (f, df/drho, "
        "d2f/drho2), each shaped like the flattened rho.");

    py::class_<CtildeModel>(m, "AceCtildeModel",
                            "Compiled Ctilde ACE potential (python-ace conventions). Units: Å, eV.")
        .def(py::init([](const py::object& pot, const std::vector<int>& atomic_numbers, bool share_products,
                         bool keep_zero_terms) {
                 return new CtildeModel(spec_from_python(pot, atomic_numbers), share_products, keep_zero_terms);
             }),
             py::arg("potential"), py::arg("atomic_numbers") = std::vector<int>{}, py::arg("share_products") = true,
             py::arg("keep_zero_terms") = false,
             "keep_zero_terms=True keeps products whose Ctilde coefficients are all zero, so that every "
             "coefficient can be trained (parameter_vjp, set_parameters need it when some are zero).")
        .def_static(
            "from_yace",
            [](const std::string& path, bool share_products, bool keep_zero_terms) {
                CtildeSpec spec = read_yace_spec(path);  // its errors name the file already
                try {
                    return new CtildeModel(spec, share_products, keep_zero_terms);
                } catch (const InputError& e) {
                    throw InputError(path + ": " + e.what());
                }
            },
            py::arg("path"), py::arg("share_products") = true, py::arg("keep_zero_terms") = false,
            "Read a .yace file with the C++ reader the LAMMPS plugin and the KIM driver use (atomic numbers "
            "from the element symbols) and compile it.")
        .def_property_readonly("cutoff", [](const CtildeModel& self) { return self.cutoff(); })
        .def_property_readonly("nelements", &CtildeModel::nelements)
        .def("bond_cutoff", [](const CtildeModel& s, int a, int b) { return s.cutoff(a, b); })
        .def("num_nodes", &CtildeModel::num_nodes, "Product nodes of the evaluation DAG of species mu.")
        .def("num_roots", &CtildeModel::num_roots, "Distinct products entering the densities of species mu.")
        .def(
            "compute",
            [](const CtildeModel& self, I32 species, I64 first, I64 neigh, F64 rij, bool forces, bool splines,
               int num_threads) {
                const std::int64_t n = species.size();
                if (first.size() != n + 1) throw InputError("ACE compute: first must have natoms+1 entries");
                const std::int64_t np = first.data()[n];
                if (neigh.size() != np || rij.size() != 3 * np)
                    throw InputError("ACE compute: neigh must have first[-1] entries and rij shape (first[-1], 3)");
                ComputeOptions opt;
                opt.forces = forces;
                opt.splines = splines;
                opt.num_threads = num_threads;
                py::array_t<double> energies(n);
                py::array_t<double> f(std::vector<py::ssize_t>{n, 3});
                py::array_t<double> vir(std::vector<py::ssize_t>{3, 3});
                {
                    py::gil_scoped_release release;
                    self.compute(n, species.data(), first.data(), neigh.data(), rij.data(), opt,
                                 energies.mutable_data(), f.mutable_data(), vir.mutable_data());
                }
                py::tuple out(3);
                out[0] = energies;
                out[1] = forces ? py::object(f) : py::object(py::none());
                out[2] = forces ? py::object(vir) : py::object(py::none());
                return out;
            },
            py::arg("species"), py::arg("first"), py::arg("neigh"), py::arg("rij"), py::arg("forces") = true,
            py::arg("splines") = true, py::arg("num_threads") = 0,
            "Per-atom energies [N] (eV), forces [N,3] (eV/Å) and virial [3,3] = -sum r_ij (x) dE/dr_ij (eV).")
        .def(
            "parameter_layout",
            [](const CtildeModel& self) {
                const ParameterLayout lay = parameter_layout(self);
                py::dict d;
                d["n_ctilde"] = lay.n_ctilde;
                d["n_crad"] = lay.n_crad;
                d["function_first"] = py::array_t<std::int64_t>(lay.function_first.size(), lay.function_first.data());
                d["ctilde_offsets"] = py::array_t<std::int64_t>(lay.ctilde_offsets.size(), lay.ctilde_offsets.data());
                d["crad_offsets"] = py::array_t<std::int64_t>(lay.crad_offsets.size(), lay.crad_offsets.data());
                return d;
            },
            "Flat parameter layout (see cpp/include/forcefit/ace/ctilde_gradients.hpp): dict with n_ctilde, n_crad, "
            "function_first [nelements+1] (global index of each species' first function, species-major, list "
            "order), ctilde_offsets [nfunctions+1] (function g's ctildes [num_ms_combs, ndensity] start at "
            "ctilde_offsets[g]), crad_offsets [nelements^2+1] (bond mu_i*nelements+mu_j's crad "
            "[nradmax, lmax+1, nradbasemax] starts there).")
        .def(
            "get_parameters",
            [](const CtildeModel& self) {
                const ParameterLayout lay = parameter_layout(self);
                py::array_t<double> c(lay.n_ctilde), r(lay.n_crad);
                get_parameters(self, c.mutable_data(), r.mutable_data());
                return py::make_tuple(c, r);
            },
            "(ctilde [n_ctilde], crad [n_crad]) in the flat layout of parameter_layout().")
        .def(
            "set_parameters",
            [](CtildeModel& self, F64 ctilde, F64 crad, bool rebuild_splines) {
                const ParameterLayout lay = parameter_layout(self);
                if (ctilde.size() != lay.n_ctilde || crad.size() != lay.n_crad)
                    throw InputError("ACE set_parameters: expected " + std::to_string(lay.n_ctilde) + " ctilde and " +
                                     std::to_string(lay.n_crad) + " crad values");
                set_parameters(self, ctilde.data(), crad.data(), rebuild_splines);
            },
            py::arg("ctilde"), py::arg("crad"), py::arg("rebuild_splines") = true,
            "Replace all trainable parameters (flat layout). rebuild_splines=False skips the spline tables "
            "(then only splines=False evaluations work until the next rebuild).")
        .def(
            "parameter_vjp",
            [](const CtildeModel& self, I32 species, I64 first, I64 neigh, F64 rij, I64 atom_offset, F64 dL_dE,
               F64 dL_dF, py::object dL_dW, bool splines, int num_threads, bool outputs) {
                const std::int64_t n = species.size();
                if (first.size() != n + 1) throw InputError("ACE parameter_vjp: first must have natoms+1 entries");
                const std::int64_t np = first.data()[n];
                if (neigh.size() != np || rij.size() != 3 * np)
                    throw InputError("ACE parameter_vjp: neigh must have first[-1] entries and rij shape (first[-1], 3)");
                const std::int64_t nc = atom_offset.size() - 1;
                if (nc < 0 || dL_dE.size() != nc || dL_dF.size() != 3 * n)
                    throw InputError("ACE parameter_vjp: need atom_offset [C+1], dL_dE [C], dL_dF [N,3]");
                F64 w;  // stays unused (not null: an empty array) when dL_dW is None
                const bool has_w = !dL_dW.is_none();
                if (has_w) {
                    w = F64::ensure(dL_dW);
                    if (!w || w.size() != 6 * nc) throw InputError("ACE parameter_vjp: dL_dW must have shape [C, 6]");
                }
                const ParameterLayout lay = parameter_layout(self);
                VjpOptions opt;
                opt.splines = splines;
                opt.num_threads = num_threads;
                opt.outputs = outputs;
                py::array_t<double> e(nc), f(std::vector<py::ssize_t>{n, 3}), v(std::vector<py::ssize_t>{nc, 6});
                py::array_t<double> gc(lay.n_ctilde), gr(lay.n_crad);
                {
                    py::gil_scoped_release release;
                    parameter_vjp(self, n, species.data(), first.data(), neigh.data(), rij.data(), nc,
                                  atom_offset.data(), dL_dE.data(), dL_dF.data(), has_w ? w.data() : nullptr, opt,
                                  e.mutable_data(), f.mutable_data(), v.mutable_data(), gc.mutable_data(),
                                  gr.mutable_data());
                }
                if (!outputs) return py::tuple(py::make_tuple(py::none(), py::none(), py::none(), gc, gr));
                return py::tuple(py::make_tuple(e, f, v, gc, gr));
            },
            py::arg("species"), py::arg("first"), py::arg("neigh"), py::arg("rij"), py::arg("atom_offset"),
            py::arg("dL_dE"), py::arg("dL_dF"), py::arg("dL_dW") = py::none(), py::arg("splines") = false,
            py::arg("num_threads") = 0, py::arg("outputs") = true,
            "Vector-Jacobian product with respect to the trainable parameters, in one pass.\n\n"
            "Configurations c own atoms atom_offset[c]:atom_offset[c+1]; the CSR full neighbour list (species "
            "[N] int32, first [N+1], neigh [P] owner atoms, rij [P,3] = r_j + S cell - r_i in Å) is global and "
            "must not link configurations.  Returns (energies [C] eV, forces [N,3] eV/Å, virial [C,6] eV, "
            "grad_ctilde [n_ctilde], grad_crad [n_crad]) with virial W = -sum_pairs r_ij (x) dE/dr_ij in Voigt "
            "order xx yy zz yz xz xy (off-diagonals symmetrised; stress = -W/V, ASE sign) and\n"
            "  grad = sum_c dL_dE[c] dE_c/dtheta + sum_k dL_dF[k] . dF_k/dtheta + sum_c dL_dW[c] . dW_c/dtheta\n"
            "for theta in the flat layout of parameter_layout() (all ctildes incl. rank 1, then all crad). "
            "dL_dW=None: no virial term.  splines=False (default) uses the analytic radial functions (exact "
            "gradients); the model must have been built with keep_zero_terms=True when any ctilde is zero.  "
            "outputs=False skips the energy+force pass and returns None for energies, forces and virial "
            "(for callers that computed them already to form the adjoints).  With all adjoints zero only the "
            "outputs are evaluated (per-configuration virials at the cost of one energy+force pass).")
        .def(
            "parameter_jacobian",
            [](const CtildeModel& self, I32 species, I64 first, I64 neigh, F64 rij, I64 atom_offset, bool splines,
               int num_threads) {
                const std::int64_t n = species.size();
                if (first.size() != n + 1) throw InputError("ACE parameter_jacobian: first must have natoms+1 entries");
                const std::int64_t np = first.data()[n];
                if (neigh.size() != np || rij.size() != 3 * np)
                    throw InputError("ACE parameter_jacobian: neigh must have first[-1] entries and rij shape (first[-1], 3)");
                const std::int64_t nc = atom_offset.size() - 1;
                if (nc < 0) throw InputError("ACE parameter_jacobian: need atom_offset [C+1]");
                const ParameterLayout lay = parameter_layout(self);
                const py::ssize_t P = lay.n_ctilde + lay.n_crad;
                JacobianOptions opt;
                opt.splines = splines;
                opt.num_threads = num_threads;
                py::array_t<double> e(nc), f(std::vector<py::ssize_t>{n, 3}), v(std::vector<py::ssize_t>{nc, 6});
                py::array_t<double> je(std::vector<py::ssize_t>{nc, P}), jf(std::vector<py::ssize_t>{3 * n, P}),
                    jv(std::vector<py::ssize_t>{6 * nc, P});
                {
                    py::gil_scoped_release release;
                    parameter_jacobian(self, n, species.data(), first.data(), neigh.data(), rij.data(), nc,
                                       atom_offset.data(), opt, e.mutable_data(), f.mutable_data(), v.mutable_data(),
                                       je.mutable_data(), jf.mutable_data(), jv.mutable_data());
                }
                return py::make_tuple(e, f, v, je, jf, jv);
            },
            py::arg("species"), py::arg("first"), py::arg("neigh"), py::arg("rij"), py::arg("atom_offset"),
            py::arg("splines") = false, py::arg("num_threads") = 0,
            "Jacobian blocks with respect to the trainable parameters (cpp/include/forcefit/ace/ctilde_jacobian.hpp).\n\n"
            "Batch as parameter_vjp.  Returns (energies [C] eV, forces [N,3] eV/Å, virial [C,6] eV (Voigt xx yy zz "
            "yz xz xy, W = -sum_pairs r_ij (x) dE/dr_ij, off-diagonals symmetrised), jac_energy [C,P] = dE_c/dtheta, "
            "jac_forces [3N,P] (row 3k+a = dF_{k,a}/dtheta), jac_virial [6C,P] (row 6c+v = dW_{c,v}/dtheta)) with "
            "theta = (ctilde, crad) in the flat layout of parameter_layout(), P = n_ctilde + n_crad.  Cost about 11 "
            "times parameter_vjp at ~60 neighbours per atom (3 tangent sweeps per neighbour, 8 at a time); memory "
            "7C + 3N rows of P doubles: pass configurations in chunks.  The model must have been built with keep_zero_terms=True.")
        .def(
            "radial",
            [](const CtildeModel& self, int mu_i, int mu_j, F64 r, bool splines) {
                const int nf = self.radial_count(mu_i, mu_j);
                const py::ssize_t nr = r.size();
                py::array_t<double> v(std::vector<py::ssize_t>{nr, nf}), d(std::vector<py::ssize_t>{nr, nf});
                for (py::ssize_t k = 0; k < nr; ++k)
                    self.radial(mu_i, mu_j, r.data()[k], splines, v.mutable_data() + k * nf, d.mutable_data() + k * nf);
                return py::make_tuple(v, d);
            },
            py::arg("mu_i"), py::arg("mu_j"), py::arg("r"), py::arg("splines") = true,
            "Values and r-derivatives of [g_k (nradbase), R_nl (nradmax*(lmax+1)), core] at distances r.");
}
