// Errors raised by the core. The core never prints or aborts: it throws one of these, and each
// front end turns it into its own error (a Python exception, a LAMMPS error->all, a KIM error code).
#pragma once

#include <stdexcept>
#include <string>

namespace forcefit {

/// Invalid input to a core routine: a bad shape, a non-positive cutoff, a singular periodic cell.
/// The message names the argument and the offending value. Python sees forcefit.errors.InputError.
class InputError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// A feature that this build does not contain (for example CUDA kernels in a CPU-only build).
class NotCompiledError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace forcefit
