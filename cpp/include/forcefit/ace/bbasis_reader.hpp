// python-ace/pacemaker B-basis potential files (.yaml) read in C++, for the front ends without Python
// (LAMMPS plugin, KIM driver).  Same content, defaults and checks as forcefit.ace.yaml_io.read_bbasis_yaml
// followed by forcefit.ace.bbasis.resolve:
//   * global: DeltaSplineBins (> 0); species: a list of blocks ("speciesblock: Al", "Al Ni", "Al Ni Cu");
//     metadata, auxdata and unknown block keys are ignored;
//   * single-species blocks give the embedding (ndensityi, npoti, parameters [2*ndensityi];
//     rho_core_cut 100000 and drho_core_cut 250 when absent); one- and two-species blocks the bond
//     (nradmaxi, lmaxi, nradbaseij, radbase, radparameters, radcoefficients [nradmaxi][lmaxi+1][nradbaseij]
//     or the older flat list with k slowest, then n, then l; rcutij, dcutij) and core repulsion
//     (core-repulsion [0, 0], r_in 0, delta_in 0, inner_cutoff_type "density" when absent); a two-species
//     block may leave its bond or core repulsion to the reversed block ("Ni Al" for "Al Ni");
//   * nbody entries {type, nr, nl, lint, c, skip}: c a number or one value per density; lint required
//     for rank > 2; skip: true functions are left out.
// Elements are sorted (species index = position); every error is a forcefit::InputError
// "path: line N: place: problem", the place as in the Python reader ("species[1] ('Al Ni'): nbody[2]").
#pragma once

#include <string>

#include "forcefit/ace/bbasis.hpp"

namespace forcefit::ace {

/// Read and resolve a B-basis .yaml file.
BBasisSpec read_bbasis_yaml(const std::string& path);

/// Read a B-basis .yaml file and convert it to the Ctilde form (bbasis_to_ctilde).
CtildeSpec read_bbasis_yaml_spec(const std::string& path);

/// A potential file of either kind: ".yace" -> read_yace_spec, ".yaml"/".yml" -> read_bbasis_yaml_spec;
/// other names by content (a top-level "species" list is a B-basis file, anything else is read as .yace).
CtildeSpec read_potential_spec(const std::string& path);

}  // namespace forcefit::ace
