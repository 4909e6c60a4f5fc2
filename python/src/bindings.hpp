// One registration function per concept; module.cpp calls each. A new kernel family adds a
// bind_<name>.cpp file and one line in each of the two lists below.
#pragma once

#include <pybind11/pybind11.h>

namespace forcefit::python {

void bind_build_info(pybind11::module_& m);
void bind_potentials(pybind11::module_& m);
void bind_ace(pybind11::module_& m);
void bind_ace_files(pybind11::module_& m);
void bind_neighbor(pybind11::module_& m);

}  // namespace forcefit::python
