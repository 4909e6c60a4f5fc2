// What this build of the core contains, so front ends can report it and refuse missing features.
#pragma once

#include <string>

namespace forcefit {

/// Version of the core library ("MAJOR.MINOR.PATCH").
std::string core_version();

/// True when the core was compiled with OpenMP threads.
bool has_openmp();

/// True when the core was compiled with CUDA kernels.
bool has_cuda();

/// Number of threads the core uses by default (OpenMP's maximum, or 1).
int default_num_threads();

}  // namespace forcefit
