// A small YAML reader for the subset that potential files use, so the C++ front ends (LAMMPS plugin, KIM
// driver) read python-ace .yace files without a YAML library:
//   * block mappings ("key: value", nested by indentation), block sequences ("- item"), compact
//     mappings in sequence items ("- key: value" with further keys below the first, as python-ace's
//     B-basis .yaml files write species blocks),
//   * flow mappings {a: 1, b: [1, 2]} and flow sequences [1, 2] (may span lines), as mapping keys too,
//   * plain, 'single' and "double" quoted scalars, comments, a leading "---".
// Anchors, tags, multi-line plain scalars and block scalars (| >) are not supported and are reported as
// errors.  Every error is a forcefit::InputError naming the file and line.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace forcefit::yaml {

struct Node {
    enum class Kind { Null, Scalar, Sequence, Mapping };
    Kind kind = Kind::Null;
    std::string scalar;                           ///< Scalar text (unquoted)
    std::vector<Node> items;                      ///< Sequence items
    std::vector<std::pair<Node, Node>> entries;   ///< Mapping entries in file order
    int line = 0;                                 ///< 1-based line where the node starts

    bool is_scalar() const { return kind == Kind::Scalar; }
    bool is_sequence() const { return kind == Kind::Sequence; }
    bool is_mapping() const { return kind == Kind::Mapping; }
    /// Mapping value of a scalar key, or nullptr.
    const Node* find(const std::string& key) const;
};

/// Deepest nesting of collections the parser accepts (potential files nest a few levels); deeper input is
/// an InputError, not a stack overflow.
constexpr int kMaxNesting = 200;

/// `text` with bytes outside printable ASCII written as \xNN, so that file content quoted in an error
/// message is valid UTF-8 (Python cannot decode an exception message that is not).
std::string printable(const std::string& text);

/// Parse YAML text; `source` names the text in error messages (a path).
Node parse(const std::string& text, const std::string& source);
/// Read and parse a file.
Node parse_file(const std::string& path);

}  // namespace forcefit::yaml
