// B-basis .yaml -> BBasisSpec -> CtildeSpec (see bbasis_reader.hpp).  Two passes, as in the Python
// reader: the blocks are parsed as written (absent optional keys remembered as absent), then python-ace's
// rules resolve them into one embedding per element and one bond per ordered pair.
#include "forcefit/ace/bbasis_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include "forcefit/ace/yace_reader.hpp"
#include "forcefit/elements.hpp"
#include "forcefit/error.hpp"
#include "forcefit/io/yaml_subset.hpp"

namespace forcefit::ace {

namespace {

using yaml::Node;

const char* const kRadialKeys[] = {"nradmaxi", "nradbaseij", "radbase", "radparameters", "radcoefficients",
                                   "rcutij", "dcutij"};
const std::set<std::string> kFunctionKeys = {"type", "nr", "nl", "lint", "c", "skip"};

// A bond as written in a block (before the reversed block fills what is absent).
struct RadialBlock {
    int nradmax = 0, lmax = 0, nradbase = 0;
    std::string radbase;
    std::vector<double> radparameters, crad;  // crad [nradmax][lmax+1][nradbase]
    double rcut = 0, dcut = 0;
    int radbase_line = 0;
    bool same_as(const RadialBlock& o) const {
        return nradmax == o.nradmax && lmax == o.lmax && nradbase == o.nradbase && radbase == o.radbase &&
               radparameters == o.radparameters && crad == o.crad && rcut == o.rcut && dcut == o.dcut;
    }
};

struct FunctionBlock {
    std::vector<std::string> elements;  // central first
    std::vector<int> ns, ls, lint;
    std::vector<double> coeffs;
    bool skip = false;
    std::string where;
    int line = 0;
};

struct Block {
    std::string name, where;
    int line = 0;
    std::vector<std::string> element_list, species;  // as written / distinct in order
    std::optional<EmbeddingSpec> embedding;
    std::optional<RadialBlock> radial;
    std::optional<std::pair<double, double>> core;
    std::optional<double> r_in, delta_in;
    std::optional<std::string> inner;
    int inner_line = 0;
    std::vector<FunctionBlock> functions;
};

std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> out;
    std::size_t p = 0;
    while (p < s.size()) {
        while (p < s.size() && std::isspace(static_cast<unsigned char>(s[p]))) ++p;
        const std::size_t b = p;
        while (p < s.size() && !std::isspace(static_cast<unsigned char>(s[p]))) ++p;
        if (p > b) out.push_back(s.substr(b, p - b));
    }
    return out;
}

struct Reader {
    std::string path;

    std::string at(int line, const std::string& where) const {
        return path + ": line " + std::to_string(line) + ": " + where;
    }
    [[noreturn]] void fail(int line, const std::string& where, const std::string& what) const {
        throw InputError(at(line, where) + ": " + what);
    }
    [[noreturn]] void fail(const Node& n, const std::string& where, const std::string& what) const {
        fail(n.line, where, what);
    }

    const Node* get(const Node& map, const std::string& key) const { return map.find(key); }
    const Node& need(const Node& map, const std::string& key, const std::string& where) const {
        const Node* v = map.find(key);
        if (!v) fail(map, where, "missing key '" + key + "'");
        return *v;
    }

    // --- scalars, converted as forcefit.ace.yaml_io does -------------------------------------------
    std::string text(const Node& n, const std::string& where) const {
        if (n.kind == Node::Kind::Null) return "";
        if (!n.is_scalar()) fail(n, where, "expected a string");
        return n.scalar;
    }
    double number(const Node& n, const std::string& where) const {
        if (!n.is_scalar()) fail(n, where, "expected a number");
        const std::string& s = n.scalar;
        const char* b = s.c_str();
        char* e = nullptr;
        errno = 0;
        const double v = std::strtod(b, &e);
        const bool hex = s.find_first_of("xX") != std::string::npos;  // strtod reads hex, YAML floats do not
        if (s.empty() || e == b || *e != '\0' || hex || errno == ERANGE || !std::isfinite(v))
            fail(n, where, "expected a finite number, got '" + s + "'");
        return v;
    }
    int integer(const Node& n, const std::string& where, std::optional<int> minimum = std::nullopt) const {
        const double v = number(n, where);
        if (v != std::floor(v)) fail(n, where, "expected an integer, got '" + n.scalar + "'");
        if (std::fabs(v) > 2147483648.0) fail(n, where, "integer out of range: '" + n.scalar + "'");
        if (minimum && v < *minimum)
            fail(n, where, "must be >= " + std::to_string(*minimum) + ", got '" + n.scalar + "'");
        return int(v);
    }
    bool boolean(const Node& n, const std::string& where) const {
        static const std::set<std::string> yes = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"};
        static const std::set<std::string> no = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"};
        const std::string s = text(n, where);
        if (yes.count(s)) return true;
        if (no.count(s)) return false;
        fail(n, where, "expected true or false, got '" + s + "'");
    }
    const std::vector<Node>& sequence(const Node& n, const std::string& where) const {
        static const std::vector<Node> empty;
        if (n.kind == Node::Kind::Null || (n.is_scalar() && n.scalar.empty())) return empty;
        if (!n.is_sequence()) fail(n, where, "expected a list");
        return n.items;
    }
    std::vector<double> numbers(const Node& n, const std::string& where) const {
        if (!n.is_sequence()) fail(n, where, "expected a list of numbers");
        std::vector<double> out;
        for (std::size_t k = 0; k < n.items.size(); ++k)
            out.push_back(number(n.items[k], where + "[" + std::to_string(k) + "]"));
        return out;
    }
    std::vector<int> integers(const Node& n, const std::string& where, std::optional<int> minimum) const {
        if (!n.is_sequence()) fail(n, where, "expected a list of integers");
        std::vector<int> out;
        for (std::size_t k = 0; k < n.items.size(); ++k)
            out.push_back(integer(n.items[k], where + "[" + std::to_string(k) + "]", minimum));
        return out;
    }

    // --- one block as written ---------------------------------------------------------------------------
    std::vector<double> radcoefficients(const Node& n, const std::string& where, int nradmax, int lmax,
                                        int nradbase) const {
        const std::vector<Node>& items = sequence(n, where);
        const std::size_t total = std::size_t(nradmax) * (lmax + 1) * nradbase;
        const std::string shape = "[" + std::to_string(nradmax) + ", " + std::to_string(lmax + 1) + ", " +
                                  std::to_string(nradbase) + "]";
        const bool nested = std::any_of(items.begin(), items.end(), [](const Node& x) { return x.is_sequence(); });
        std::vector<double> out;
        if (nested) {
            if (int(items.size()) != nradmax)
                fail(n, where, "needs shape [nradmaxi, lmaxi+1, nradbaseij] = " + shape + ", got " +
                                   std::to_string(items.size()) + " rows");
            for (int i = 0; i < nradmax; ++i) {
                const std::string wi = where + "[" + std::to_string(i) + "]";
                const auto& row = sequence(items[i], wi);
                if (int(row.size()) != lmax + 1)
                    fail(items[i], wi, "needs lmaxi+1 = " + std::to_string(lmax + 1) + " entries, got " +
                                           std::to_string(row.size()));
                for (int l = 0; l <= lmax; ++l) {
                    const std::string wl = wi + "[" + std::to_string(l) + "]";
                    const auto vals = numbers(row[l], wl);
                    if (int(vals.size()) != nradbase)
                        fail(row[l], wl, "needs nradbaseij = " + std::to_string(nradbase) + " values, got " +
                                             std::to_string(vals.size()));
                    out.insert(out.end(), vals.begin(), vals.end());
                }
            }
            return out;
        }
        std::vector<double> flat;
        for (std::size_t k = 0; k < items.size(); ++k)
            flat.push_back(number(items[k], where + "[" + std::to_string(k) + "]"));
        if (flat.size() != total)
            fail(n, where, "flat list needs nradmaxi*(lmaxi+1)*nradbaseij = " + std::to_string(total) +
                               " values, got " + std::to_string(flat.size()));
        // python-ace's older flat layout: k slowest, then n, then l fastest
        out.assign(total, 0.0);
        for (int k = 0; k < nradbase; ++k)
            for (int i = 0; i < nradmax; ++i)
                for (int l = 0; l <= lmax; ++l)
                    out[(std::size_t(i) * (lmax + 1) + l) * nradbase + k] =
                        flat[(std::size_t(k) * nradmax + i) * (lmax + 1) + l];
        return out;
    }

    std::optional<RadialBlock> radial(const Node& b, const std::string& where) const {
        if (!get(b, "lmaxi")) {
            for (const char* k : {"nradmaxi", "nradbaseij", "radbase", "radparameters", "radcoefficients"})
                if (const Node* v = get(b, k)) fail(*v, where + ": " + k, "radial basis is partially defined (no 'lmaxi')");
            return std::nullopt;
        }
        for (const char* k : kRadialKeys)
            if (!get(b, k)) fail(b, where, std::string("radial basis misses key '") + k + "'");
        RadialBlock r;
        r.lmax = integer(need(b, "lmaxi", where), where + ": lmaxi", 0);
        r.nradmax = integer(need(b, "nradmaxi", where), where + ": nradmaxi", 0);
        r.nradbase = integer(need(b, "nradbaseij", where), where + ": nradbaseij", 0);
        if (r.lmax > 100 || r.nradmax > 1000 || r.nradbase > 1000)
            fail(b, where, "implausible radial basis size (lmaxi " + std::to_string(r.lmax) + ", nradmaxi " +
                               std::to_string(r.nradmax) + ", nradbaseij " + std::to_string(r.nradbase) + ")");
        r.crad = radcoefficients(need(b, "radcoefficients", where), where + ": radcoefficients", r.nradmax, r.lmax,
                                 r.nradbase);
        r.rcut = number(need(b, "rcutij", where), where + ": rcutij");
        if (!(r.rcut > 0)) fail(need(b, "rcutij", where), where + ": rcutij", "must be > 0");
        r.radbase = text(need(b, "radbase", where), where + ": radbase");
        r.radbase_line = need(b, "radbase", where).line;
        r.radparameters = numbers(need(b, "radparameters", where), where + ": radparameters");
        r.dcut = number(need(b, "dcutij", where), where + ": dcutij");
        return r;
    }

    FunctionBlock function(const Node& f, const std::string& where) const {
        if (!f.is_mapping()) fail(f, where, "expected a mapping");
        for (const auto& kv : f.entries) {
            const std::string key = kv.first.is_scalar() ? kv.first.scalar : "?";
            if (!kFunctionKeys.count(key)) fail(kv.first, where + ": " + key, "unknown key (known: type, nr, nl, lint, c, skip)");
        }
        for (const char* k : {"type", "nr", "nl", "c"})
            if (!get(f, k)) fail(f, where, std::string("missing key '") + k + "'");
        FunctionBlock fb;
        fb.where = where;
        fb.line = f.line;
        fb.elements = split_words(text(need(f, "type", where), where + ": type"));
        if (fb.elements.size() < 2)
            fail(need(f, "type", where), where + ": type", "needs a central and at least one neighbour species");
        const Node& c = need(f, "c", where);
        if (c.is_sequence()) fb.coeffs = numbers(c, where + ": c");
        else fb.coeffs = {number(c, where + ": c")};
        const int rank = int(fb.elements.size()) - 1;
        if (const Node* lint = get(f, "lint")) fb.lint = integers(*lint, where + ": lint", 0);
        else if (rank > 2) fail(f, where, "rank-" + std::to_string(rank) + " function needs 'lint' (" + std::to_string(rank - 2) + " values)");
        fb.ns = integers(need(f, "nr", where), where + ": nr", 1);
        fb.ls = integers(need(f, "nl", where), where + ": nl", 0);
        if (const Node* s = get(f, "skip")) fb.skip = boolean(*s, where + ": skip");
        return fb;
    }

    Block block(const Node& node, int i) const {
        const std::string wi = "species[" + std::to_string(i) + "]";
        if (!node.is_mapping()) fail(node, wi, "expected a mapping");
        Block out;
        out.line = node.line;
        out.name = text(need(node, "speciesblock", wi), wi + ": speciesblock");
        out.element_list = split_words(out.name);
        if (out.element_list.empty()) fail(node, wi + ": speciesblock", "empty species list '" + out.name + "'");
        for (const auto& e : out.element_list)
            if (std::find(out.species.begin(), out.species.end(), e) == out.species.end()) out.species.push_back(e);
        out.where = wi + " ('" + out.name + "')";
        const std::string& where = out.where;
        if (out.species.size() == 1) {
            for (const char* k : {"ndensityi", "npoti", "parameters"})
                if (!get(node, k)) fail(node, where, std::string("single-species block misses key '") + k + "'");
            EmbeddingSpec e;
            e.ndensity = integer(need(node, "ndensityi", where), where + ": ndensityi", 1);
            e.fs_parameters = numbers(need(node, "parameters", where), where + ": parameters");
            if (int(e.fs_parameters.size()) != 2 * e.ndensity)
                fail(need(node, "parameters", where), where + ": parameters",
                     "needs 2*ndensityi = " + std::to_string(2 * e.ndensity) + " values, got " +
                         std::to_string(e.fs_parameters.size()));
            const Node& npoti = need(node, "npoti", where);
            try {
                e.kind = embedding_from_name(text(npoti, where + ": npoti"));
            } catch (const InputError& err) {
                fail(npoti, where + ": npoti", err.what());
            }
            e.rho_core_cutoff = 100000.0;
            e.drho_core_cutoff = 250.0;
            if (const Node* v = get(node, "rho_core_cut")) e.rho_core_cutoff = number(*v, where + ": rho_core_cut");
            if (const Node* v = get(node, "drho_core_cut")) e.drho_core_cutoff = number(*v, where + ": drho_core_cut");
            out.embedding = e;
        }
        if (out.species.size() <= 2) {
            out.radial = radial(node, where);
            if (const Node* v = get(node, "core-repulsion")) {
                const auto core = numbers(*v, where + ": core-repulsion");
                if (core.size() != 2) fail(*v, where + ": core-repulsion", "needs [prefactor, lambda]");
                out.core = std::make_pair(core[0], core[1]);
            }
            if (const Node* v = get(node, "r_in")) out.r_in = number(*v, where + ": r_in");
            if (const Node* v = get(node, "delta_in")) out.delta_in = number(*v, where + ": delta_in");
            if (const Node* v = get(node, "inner_cutoff_type")) {
                out.inner = text(*v, where + ": inner_cutoff_type");
                out.inner_line = v->line;
            }
        }
        if (const Node* nb = get(node, "nbody")) {
            const auto& items = sequence(*nb, where + ": nbody");
            for (std::size_t j = 0; j < items.size(); ++j)
                out.functions.push_back(function(items[j], where + ": nbody[" + std::to_string(j) + "]"));
        }
        return out;
    }

    // --- python-ace's rules ---------------------------------------------------------------------------
    std::string check_couplings_shape(const FunctionBlock& f) const {
        const int rank = int(f.elements.size()) - 1;
        if (int(f.ns.size()) != rank || int(f.ls.size()) != rank)
            return "'nr' and 'nl' need rank = " + std::to_string(rank) + " values each";
        const int need_lint = rank > 2 ? rank - 2 : 0;
        if (int(f.lint.size()) != need_lint)
            return "'lint' needs " + std::to_string(need_lint) + " values for rank " + std::to_string(rank);
        if (rank == 1 && f.ls[0] != 0) return "a rank-1 function needs nl: [0]";
        if (rank == 2 && f.ls[0] != f.ls[1]) return "a rank-2 function needs equal 'nl' values";
        if (rank > 2) {
            if (rank % 2 == 1 && f.lint.back() != f.ls.back())
                return "for odd rank the last 'lint' must equal the last 'nl'";
            if (rank % 2 == 0 && f.lint[rank - 3] != f.lint[rank - 4])
                return "for even rank the last two 'lint' values must be equal";
        }
        int sum = 0;
        for (int l : f.ls) sum += l;
        if (sum % 2) return "the sum of 'nl' must be even";
        return "";
    }

    BBasisSpec read() const {
        const Node root = yaml::parse_file(path);
        if (!root.is_mapping()) throw InputError(path + ": not a B-basis .yaml file (expected a YAML mapping)");
        const Node* glob = get(root, "global");
        if (!glob) fail(root, "global", "missing section 'global' (with DeltaSplineBins)");
        if (!glob->is_mapping()) fail(*glob, "global", "expected a mapping");
        BBasisSpec spec;
        const Node& dsb = need(*glob, "DeltaSplineBins", "global");
        spec.delta_spline_bins = number(dsb, "global: DeltaSplineBins");
        if (!(spec.delta_spline_bins > 0)) fail(dsb, "global: DeltaSplineBins", "must be > 0, got '" + dsb.scalar + "'");
        const Node* species = get(root, "species");
        if (!species) fail(root, "species", "missing section 'species'");
        const auto& items = sequence(*species, "species");
        if (items.empty()) fail(*species, "species", "no species blocks");
        std::vector<Block> blocks;
        for (std::size_t i = 0; i < items.size(); ++i) blocks.push_back(block(items[i], int(i)));
        resolve(blocks, spec);
        return spec;
    }

    void resolve(const std::vector<Block>& blocks, BBasisSpec& spec) const {
        std::set<std::string> all;
        for (const auto& b : blocks) all.insert(b.element_list.begin(), b.element_list.end());
        spec.elements.assign(all.begin(), all.end());  // sorted, as python-ace
        const int nel = int(spec.elements.size());
        auto index = [&](const std::string& e) {
            return int(std::lower_bound(spec.elements.begin(), spec.elements.end(), e) - spec.elements.begin());
        };
        std::map<std::vector<std::string>, const Block*> by_key;
        for (const auto& b : blocks) {
            if (!by_key.emplace(b.element_list, &b).second)
                fail(b.line, "speciesblock '" + b.name + "'", "species block appears twice");
        }
        std::vector<std::optional<EmbeddingSpec>> embeddings(nel);
        std::vector<std::optional<BondSpec>> bonds(std::size_t(nel) * nel);
        std::set<std::string> inner_types;
        for (const auto& b : blocks) {
            const std::string where = "speciesblock '" + b.name + "'";
            if (b.species.size() == 1) embeddings[index(b.species[0])] = b.embedding;
            if (b.species.size() > 2) continue;
            const int mu_i = index(b.species.front()), mu_j = index(b.species.back());
            const Block* dual = nullptr;
            if (b.species.size() == 2) {
                auto it = by_key.find({b.species[1], b.species[0]});
                if (it != by_key.end()) dual = it->second;
            }
            const RadialBlock* radial = b.radial ? &*b.radial : (dual && dual->radial ? &*dual->radial : nullptr);
            if (!radial)
                fail(b.line, where, "radial basis (lmaxi, nradmaxi, nradbaseij, radbase, radparameters, "
                                    "radcoefficients, rcutij, dcutij) is defined neither here nor in the reversed block");
            if (dual && b.radial && dual->radial && !b.radial->same_as(*dual->radial))
                fail(b.line, where, "radial basis differs from the one of block '" + dual->name + "'");
            if (dual && b.core && dual->core) {
                if (*b.core != *dual->core)
                    fail(b.line, where, "core-repulsion differs from the one of block '" + dual->name + "'");
                if (b.r_in != dual->r_in || b.delta_in != dual->delta_in)
                    fail(b.line, where, "r_in/delta_in differ from those of block '" + dual->name + "'");
            }
            const Block& core_source = (!b.core && dual && dual->core) ? *dual : b;
            BondSpec bs;
            bs.nradmax = radial->nradmax;
            bs.lmax = radial->lmax;
            bs.nradbase = radial->nradbase;
            try {
                bs.basis = radial_basis_from_name(radial->radbase);
            } catch (const InputError& err) {
                fail(radial->radbase_line, where + ": radbase", err.what());
            }
            bs.lambda = radial->radparameters.empty() ? 1.0 : radial->radparameters[0];
            bs.crad = radial->crad;
            bs.rcut = radial->rcut;
            bs.dcut = radial->dcut;
            bs.prehc = core_source.core ? core_source.core->first : 0.0;
            bs.lambdahc = core_source.core ? core_source.core->second : 0.0;
            bs.rcut_in = core_source.r_in.value_or(0.0);
            bs.dcut_in = core_source.delta_in.value_or(0.0);
            const std::string inner = core_source.inner.value_or("density");
            try {
                bs.inner = inner_cutoff_from_name(inner);
            } catch (const InputError& err) {
                fail(core_source.inner_line ? core_source.inner_line : core_source.line, where + ": inner_cutoff_type",
                     err.what());
            }
            inner_types.insert(inner);
            bs.z_i = atomic_number(spec.elements[mu_i]);
            bs.z_j = atomic_number(spec.elements[mu_j]);
            bonds[std::size_t(mu_i) * nel + mu_j] = std::move(bs);
        }
        const int first_line = blocks.front().line;
        if (inner_types.size() > 1) {
            std::string list;
            for (const auto& t : inner_types) list += (list.empty() ? "" : ", ") + t;
            fail(first_line, "species", "inner_cutoff_type must be the same in all one- and two-species blocks, got " + list);
        }
        for (int mu = 0; mu < nel; ++mu) {
            if (!embeddings[mu])
                fail(first_line, "species", "element " + spec.elements[mu] + " has no single-species block (embedding)");
            spec.embeddings.push_back(*embeddings[mu]);
        }
        for (int a = 0; a < nel; ++a)
            for (int b = 0; b < nel; ++b) {
                if (!bonds[std::size_t(a) * nel + b])
                    fail(first_line, "species", "no radial basis for the pair " + spec.elements[a] + "-" + spec.elements[b] +
                                                    " (needs a block '" + spec.elements[a] + " " + spec.elements[b] + "')");
                spec.bonds.push_back(*bonds[std::size_t(a) * nel + b]);
            }

        spec.functions.resize(nel);
        for (const auto& b : blocks) {
            for (const auto& f : b.functions) {
                const std::string problem = check_couplings_shape(f);
                if (!problem.empty()) fail(f.line, f.where, problem);
                if (f.elements[0] != b.element_list[0])
                    fail(f.line, f.where, "central species " + f.elements[0] + " differs from the block's " + b.element_list[0]);
                BBasisFunctionSpec fs;
                for (std::size_t t = 1; t < f.elements.size(); ++t) {
                    if (std::find(b.species.begin(), b.species.end(), f.elements[t]) == b.species.end())
                        fail(f.line, f.where, "species " + f.elements[t] + " is not in the block's species");
                    fs.mus.push_back(index(f.elements[t]));
                }
                const int mu0 = index(f.elements[0]);
                const int rank = int(fs.mus.size());
                if (int(f.coeffs.size()) != spec.embeddings[mu0].ndensity)
                    fail(f.line, f.where + ": c", std::to_string(f.coeffs.size()) + " values but " + f.elements[0] +
                                                      " has ndensityi = " + std::to_string(spec.embeddings[mu0].ndensity));
                for (int t = 0; t < rank; ++t) {
                    const BondSpec& bond = spec.bonds[std::size_t(mu0) * nel + fs.mus[t]];
                    const std::string pair = f.elements[0] + "-" + f.elements[t + 1] + " bond";
                    if (rank == 1 && f.ns[t] > bond.nradbase)
                        fail(f.line, f.where, "nr = " + std::to_string(f.ns[t]) + " exceeds nradbaseij = " +
                                                  std::to_string(bond.nradbase) + " of the " + pair);
                    if (rank > 1 && f.ns[t] > bond.nradmax)
                        fail(f.line, f.where, "nr = " + std::to_string(f.ns[t]) + " exceeds nradmaxi = " +
                                                  std::to_string(bond.nradmax) + " of the " + pair);
                    if (f.ls[t] > bond.lmax)
                        fail(f.line, f.where, "nl = " + std::to_string(f.ls[t]) + " exceeds lmaxi = " +
                                                  std::to_string(bond.lmax) + " of the " + pair);
                }
                if (f.skip) continue;
                fs.ns = f.ns;
                fs.ls = f.ls;
                fs.lint = f.lint;
                fs.coeffs = f.coeffs;
                fs.origin = at(f.line, f.where);
                spec.functions[mu0].push_back(std::move(fs));
            }
        }
    }
};

bool ends_with(const std::string& s, const std::string& suffix) {
    if (s.size() < suffix.size()) return false;
    for (std::size_t k = 0; k < suffix.size(); ++k)
        if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + k])) != suffix[k]) return false;
    return true;
}

}  // namespace

BBasisSpec read_bbasis_yaml(const std::string& path) { return Reader{path}.read(); }

CtildeSpec read_bbasis_yaml_spec(const std::string& path) { return bbasis_to_ctilde(read_bbasis_yaml(path)); }

CtildeSpec read_potential_spec(const std::string& path) {
    if (ends_with(path, ".yace")) return read_yace_spec(path);
    if (ends_with(path, ".yaml") || ends_with(path, ".yml")) return read_bbasis_yaml_spec(path);
    const Node root = yaml::parse_file(path);
    if (root.is_mapping() && root.find("species") && !root.find("bonds")) return read_bbasis_yaml_spec(path);
    return read_yace_spec(path);
}

}  // namespace forcefit::ace
