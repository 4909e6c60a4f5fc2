// Chemical element symbols and atomic numbers (ZBL needs Z; potential files store symbols).
#pragma once

#include <string>

namespace forcefit {

/// Atomic number of an element symbol ("Cu" -> 29), or 0 when the symbol is not an element.
int atomic_number(const std::string& symbol);

}  // namespace forcefit
