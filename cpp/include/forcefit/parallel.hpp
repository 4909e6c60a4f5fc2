// A team of OpenMP threads for the kernels' "one parallel region, errors kept per thread" loops.
//
// An exception must neither leave an OpenMP region nor skip the barrier of a worksharing loop, so
// the body catches errors item by item (attempt), each thread skips its remaining items once it
// has failed (failed), and run() rethrows, after the region, the recorded message of the lowest
// thread id as InputError. The body keeps its own `#pragma omp for` with its own schedule, so
// the split of items over threads -- and with it every per-thread summation order -- is the
// caller's choice. Without OpenMP the body runs once, as thread 0.
#pragma once

#include <exception>
#include <string>
#include <vector>

#include "forcefit/error.hpp"

#ifdef FORCEFIT_HAVE_OPENMP
#include <omp.h>
#endif

namespace forcefit {

class ThreadTeam {
public:
    /// `requested` threads, or OpenMP's maximum when requested <= 0 (always 1 without OpenMP).
    explicit ThreadTeam(int requested) : size_(resolve(requested)), errors_(size_) {}

    int size() const { return size_; }

    /// True once thread `tid` has recorded an error.
    bool failed(int tid) const { return !errors_[tid].empty(); }

    /// Runs f(); an exception is recorded for thread `tid` instead of propagating (returns false).
    template <class F>
    bool attempt(int tid, F&& f) {
        try {
            f();
            return true;
        } catch (const std::exception& e) {
            errors_[tid] = e.what();
            return false;
        }
    }

    /// body(tid) on each thread of one parallel region of size() threads; then the first recorded
    /// error, in thread order, is thrown as InputError.
    template <class Body>
    void run(Body&& body) {
#ifdef FORCEFIT_HAVE_OPENMP
#pragma omp parallel num_threads(size_)
        body(omp_get_thread_num());
#else
        body(0);
#endif
        for (const auto& e : errors_)
            if (!e.empty()) throw InputError(e);
    }

private:
    static int resolve(int requested) {
#ifdef FORCEFIT_HAVE_OPENMP
        return requested > 0 ? requested : omp_get_max_threads();
#else
        (void)requested;
        return 1;
#endif
    }

    int size_;
    std::vector<std::string> errors_;
};

}  // namespace forcefit
