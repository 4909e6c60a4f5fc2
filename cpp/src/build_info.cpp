#include "forcefit/build_info.hpp"

#ifdef FORCEFIT_HAVE_OPENMP
#include <omp.h>
#endif

namespace forcefit {

std::string core_version() { return "0.1.0"; }

bool has_openmp() {
#ifdef FORCEFIT_HAVE_OPENMP
    return true;
#else
    return false;
#endif
}

bool has_cuda() {
#ifdef FORCEFIT_HAVE_CUDA
    return true;
#else
    return false;
#endif
}

int default_num_threads() {
#ifdef FORCEFIT_HAVE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

}  // namespace forcefit
