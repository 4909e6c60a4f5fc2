// .yace -> CtildeSpec (see yace_reader.hpp).  Every error names file, line and key.
#include "forcefit/ace/yace_reader.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "forcefit/elements.hpp"
#include "forcefit/error.hpp"
#include "forcefit/io/yaml_subset.hpp"

namespace forcefit::ace {

namespace {

using yaml::Node;

struct Reader {
    std::string path;

    [[noreturn]] void fail(const Node& n, const std::string& where, const std::string& what) const {
        throw InputError(path + ": line " + std::to_string(n.line) + ": " + yaml::printable(where + ": " + what));
    }

    const Node& need(const Node& map, const std::string& key, const std::string& where) const {
        const Node* v = map.find(key);
        if (!v || v->kind == Node::Kind::Null) fail(map, where, "missing key '" + key + "'");
        return *v;
    }

    double number(const Node& n, const std::string& where) const {
        if (!n.is_scalar()) fail(n, where, "expected a number");
        const char* b = n.scalar.c_str();
        char* e = nullptr;
        errno = 0;
        const double v = std::strtod(b, &e);
        if (e == b || *e != '\0' || errno == ERANGE || !std::isfinite(v))
            fail(n, where, "expected a finite number, got '" + n.scalar + "'");
        return v;
    }
    int integer(const Node& n, const std::string& where) const {
        const double v = number(n, where);
        if (v != std::floor(v) || std::fabs(v) > 2e9) fail(n, where, "expected an integer, got '" + n.scalar + "'");
        return int(v);
    }
    std::string text(const Node& n, const std::string& where) const {
        if (!n.is_scalar()) fail(n, where, "expected a string");
        return n.scalar;
    }
    // nested lists flattened row-major; a scalar is a one-element list
    void flatten(const Node& n, const std::string& where, std::vector<double>& out) const {
        if (n.is_sequence()) {
            for (const auto& item : n.items) flatten(item, where, out);
        } else if (n.kind == Node::Kind::Null) {
            return;
        } else {
            out.push_back(number(n, where));
        }
    }
    std::vector<double> numbers(const Node& n, const std::string& where) const {
        std::vector<double> out;
        flatten(n, where, out);
        return out;
    }
    std::vector<int> integers(const Node& n, const std::string& where) const {
        std::vector<int> out;
        for (double v : numbers(n, where)) {
            if (v != std::floor(v) || std::fabs(v) > 2e9) fail(n, where, "expected integers");
            out.push_back(int(v));
        }
        return out;
    }
    int species_key(const Node& key, const std::string& where, int nel) const {
        const int mu = integer(key, where);
        if (mu < 0 || mu >= nel)
            fail(key, where, "species index " + key.scalar + " is not in [0, " + std::to_string(nel) + ")");
        return mu;
    }

    EmbeddingSpec embedding(const Node& e, const std::string& where) const {
        if (!e.is_mapping()) fail(e, where, "expected a mapping");
        EmbeddingSpec es;
        es.ndensity = integer(need(e, "ndensity", where), where + ": ndensity");
        es.fs_parameters = numbers(need(e, "FS_parameters", where), where + ": FS_parameters");
        if (int(es.fs_parameters.size()) != 2 * es.ndensity)
            fail(e, where, "FS_parameters needs 2*ndensity values");
        try {
            es.kind = embedding_from_name(text(need(e, "npoti", where), where + ": npoti"));
        } catch (const InputError& err) {
            fail(e, where + ": npoti", err.what());
        }
        es.rho_core_cutoff = number(need(e, "rho_core_cutoff", where), where + ": rho_core_cutoff");
        es.drho_core_cutoff = number(need(e, "drho_core_cutoff", where), where + ": drho_core_cutoff");
        return es;
    }

    BondSpec bond(const Node& b, const std::string& where) const {
        if (!b.is_mapping()) fail(b, where, "expected a mapping");
        BondSpec bs;
        bs.nradmax = integer(need(b, "nradmax", where), where + ": nradmax");
        bs.lmax = integer(need(b, "lmax", where), where + ": lmax");
        bs.nradbase = integer(need(b, "nradbasemax", where), where + ": nradbasemax");
        try {
            bs.basis = radial_basis_from_name(text(need(b, "radbasename", where), where + ": radbasename"));
        } catch (const InputError& err) {
            fail(b, where + ": radbasename", err.what());
        }
        const auto radpar = numbers(need(b, "radparameters", where), where + ": radparameters");
        bs.lambda = radpar.empty() ? 1.0 : radpar[0];
        bs.crad = numbers(need(b, "radcoefficients", where), where + ": radcoefficients");
        const std::size_t expect = std::size_t(bs.nradmax) * (bs.lmax + 1) * bs.nradbase;
        if (bs.crad.empty() && bs.nradmax == 0) bs.crad.assign(expect, 0.0);
        if (bs.crad.size() != expect)
            fail(b, where + ": radcoefficients",
                 std::to_string(bs.crad.size()) + " values, needs nradmax*(lmax+1)*nradbasemax = " +
                     std::to_string(expect));
        bs.prehc = number(need(b, "prehc", where), where + ": prehc");
        bs.lambdahc = number(need(b, "lambdahc", where), where + ": lambdahc");
        bs.rcut = number(need(b, "rcut", where), where + ": rcut");
        bs.dcut = number(need(b, "dcut", where), where + ": dcut");
        if (const Node* v = b.find("rcut_in")) bs.rcut_in = number(*v, where + ": rcut_in");
        if (const Node* v = b.find("dcut_in")) bs.dcut_in = number(*v, where + ": dcut_in");
        std::string inner = "density";
        if (const Node* v = b.find("inner_cutoff_type")) inner = text(*v, where + ": inner_cutoff_type");
        try {
            bs.inner = inner_cutoff_from_name(inner);
        } catch (const InputError& err) {
            fail(b, where + ": inner_cutoff_type", err.what());
        }
        return bs;
    }

    CtildeFunctionSpec function(const Node& f, const std::string& where) const {
        if (!f.is_mapping()) fail(f, where, "expected a mapping");
        CtildeFunctionSpec fs;
        fs.rank = integer(need(f, "rank", where), where + ": rank");
        fs.ndensity = integer(need(f, "ndensity", where), where + ": ndensity");
        const int num_ms = integer(need(f, "num_ms_combs", where), where + ": num_ms_combs");
        fs.mus = integers(need(f, "mus", where), where + ": mus");
        fs.ns = integers(need(f, "ns", where), where + ": ns");
        fs.ls = integers(need(f, "ls", where), where + ": ls");
        fs.ms = integers(need(f, "ms_combs", where), where + ": ms_combs");
        fs.ctildes = numbers(need(f, "ctildes", where), where + ": ctildes");
        if (fs.rank < 1) fail(f, where + ": rank", "must be >= 1");
        if (int(fs.mus.size()) != fs.rank || int(fs.ns.size()) != fs.rank || int(fs.ls.size()) != fs.rank)
            fail(f, where, "mus, ns and ls need rank values each");
        if (fs.ms.size() != std::size_t(fs.rank) * num_ms)
            fail(f, where + ": ms_combs", "needs rank*num_ms_combs values");
        if (fs.ctildes.size() != std::size_t(fs.ndensity) * num_ms)
            fail(f, where + ": ctildes", "needs ndensity*num_ms_combs values");
        return fs;
    }

    CtildeSpec read() const {
        const Node root = yaml::parse_file(path);
        if (!root.is_mapping()) throw InputError(path + ": not a .yace file (expected a YAML mapping)");
        CtildeSpec spec;
        const Node& el = need(root, "elements", "top level");
        if (!el.is_sequence() || el.items.empty()) fail(el, "elements", "expected a list of element symbols");
        for (const auto& e : el.items) spec.elements.push_back(text(e, "elements"));
        const int nel = int(spec.elements.size());
        if (const Node* e0 = root.find("E0")) spec.E0 = numbers(*e0, "E0");
        else spec.E0.assign(nel, 0.0);
        if (int(spec.E0.size()) != nel) fail(root, "E0", "needs one value per element");
        spec.delta_spline_bins = number(need(root, "deltaSplineBins", "top level"), "deltaSplineBins");

        const Node& emb = need(root, "embeddings", "top level");
        if (!emb.is_mapping()) fail(emb, "embeddings", "expected a mapping");
        std::vector<const Node*> emb_of(nel, nullptr);
        for (const auto& kv : emb.entries) emb_of[species_key(kv.first, "embeddings", nel)] = &kv.second;
        for (int mu = 0; mu < nel; ++mu) {
            const std::string where = "embeddings: " + std::to_string(mu);
            if (!emb_of[mu]) fail(emb, "embeddings", "missing embedding " + std::to_string(mu));
            spec.embeddings.push_back(embedding(*emb_of[mu], where));
        }

        const Node& bonds = need(root, "bonds", "top level");
        if (!bonds.is_mapping()) fail(bonds, "bonds", "expected a mapping");
        std::vector<const Node*> bond_of(std::size_t(nel) * nel, nullptr);
        for (const auto& kv : bonds.entries) {
            if (!kv.first.is_sequence() || kv.first.items.size() != 2)
                fail(kv.first, "bonds", "bond key must be [mu_i, mu_j]");
            const int a = species_key(kv.first.items[0], "bonds", nel);
            const int b = species_key(kv.first.items[1], "bonds", nel);
            bond_of[std::size_t(a) * nel + b] = &kv.second;
        }
        for (int a = 0; a < nel; ++a)
            for (int b = 0; b < nel; ++b) {
                const std::string where = "bonds: [" + std::to_string(a) + ", " + std::to_string(b) + "]";
                if (!bond_of[std::size_t(a) * nel + b]) fail(bonds, "bonds", "missing bond " + where.substr(7));
                BondSpec bs = bond(*bond_of[std::size_t(a) * nel + b], where);
                bs.z_i = atomic_number(spec.elements[a]);
                bs.z_j = atomic_number(spec.elements[b]);
                spec.bonds.push_back(std::move(bs));
            }

        spec.functions.resize(nel);
        if (const Node* funcs = root.find("functions")) {
            if (funcs->kind != Node::Kind::Null) {
                if (!funcs->is_mapping()) fail(*funcs, "functions", "expected a mapping");
                for (const auto& kv : funcs->entries) {
                    const int mu = species_key(kv.first, "functions", nel);
                    const std::string where = "functions: " + std::to_string(mu);
                    if (!kv.second.is_sequence()) fail(kv.second, where, "expected a list of functions");
                    for (std::size_t i = 0; i < kv.second.items.size(); ++i)
                        spec.functions[mu].push_back(function(kv.second.items[i], where + ": " + std::to_string(i)));
                }
            }
        }
        return spec;
    }
};

}  // namespace

CtildeSpec read_yace_spec(const std::string& path) { return Reader{path}.read(); }

}  // namespace forcefit::ace
