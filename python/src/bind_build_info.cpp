#include "bindings.hpp"
#include "forcefit/build_info.hpp"

namespace py = pybind11;

void forcefit::python::bind_build_info(py::module_& m) {
    m.def("core_version", &forcefit::core_version, "Version of the compiled core.");
    m.def("has_openmp", &forcefit::has_openmp, "True when the core was built with OpenMP threads.");
    m.def("has_cuda", &forcefit::has_cuda, "True when the core was built with CUDA kernels.");
    m.def("default_num_threads", &forcefit::default_num_threads,
          "Threads the core uses by default (set OMP_NUM_THREADS to change it).");
}
