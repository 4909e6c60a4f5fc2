// python-ace .yace (Ctilde) files read in C++, for front ends without Python (LAMMPS plugin, KIM driver).
// Same content and defaults as forcefit.ace.yace_io.read_yace: rcut_in/dcut_in default to 0 and
// inner_cutoff_type to "density"; one-element lists may be written as scalars; E0 defaults to zeros.
// Atomic numbers (for ZBL) come from the element symbols.
#pragma once

#include <string>

#include "forcefit/ace/ctilde_model.hpp"

namespace forcefit::ace {

/// Parse a .yace file into a CtildeSpec.  Throws forcefit::InputError "path: line N: key: problem".
CtildeSpec read_yace_spec(const std::string& path);

}  // namespace forcefit::ace
