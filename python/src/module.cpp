#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "forcefit/error.hpp"

namespace py = pybind11;

namespace {

// Core exceptions become the forcefit.errors classes that Python users catch.
void raise_as(const char* name, const char* message) {
    py::object cls = py::module_::import("forcefit.errors").attr(name);
    PyErr_SetString(cls.ptr(), message);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "forcefit's compiled core (neighbor lists, potentials, gradients). Use the forcefit package API.";

    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const forcefit::InputError& e) {
            raise_as("InputError", e.what());
        } catch (const forcefit::NotCompiledError& e) {
            raise_as("NotCompiledError", e.what());
        }
    });

    forcefit::python::bind_build_info(m);
    forcefit::python::bind_potentials(m);
    forcefit::python::bind_ace(m);
    forcefit::python::bind_ace_files(m);
    forcefit::python::bind_neighbor(m);
}
