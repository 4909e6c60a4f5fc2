// Recursive-descent reader for the YAML subset described in yaml_subset.hpp.  Block structure is read
// line by line from indentation; flow collections are read character by character and may cross lines.
#include "forcefit/io/yaml_subset.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "forcefit/error.hpp"

namespace forcefit::yaml {

std::string printable(const std::string& text) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (c >= 0x20 && c < 0x7f) {
            out += char(c);
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

const Node* Node::find(const std::string& key) const {
    for (const auto& kv : entries)
        if (kv.first.is_scalar() && kv.first.scalar == key) return &kv.second;
    return nullptr;
}

namespace {

class Parser {
public:
    Parser(const std::string& text, std::string source) : s_(text), src_(std::move(source)) {
        line_start_.push_back(0);
        for (std::size_t i = 0; i < s_.size(); ++i)
            if (s_[i] == '\n') line_start_.push_back(i + 1);
    }

    Node document() {
        Node root = block(0);
        if (next_content_indent() >= 0) fail(pos_, "unexpected content (inconsistent indentation?)");
        return root;
    }

private:
    const std::string& s_;
    std::string src_;
    std::size_t pos_ = 0;
    std::vector<std::size_t> line_start_;
    int depth_ = 0;  // collections open around the current position

    // Counts one level of nesting for the lifetime of a block()/flow() call.
    struct Nest {
        Parser& p;
        Nest(Parser& parser, std::size_t at) : p(parser) {
            if (++p.depth_ > kMaxNesting)
                p.fail(at, "nesting deeper than " + std::to_string(kMaxNesting) + " levels");
        }
        ~Nest() { --p.depth_; }
    };

    int line_of(std::size_t p) const {
        return int(std::upper_bound(line_start_.begin(), line_start_.end(), p) - line_start_.begin());
    }
    [[noreturn]] void fail(std::size_t p, const std::string& what) const {
        throw InputError(src_ + ": line " + std::to_string(line_of(p)) + ": " + printable(what));
    }
    bool at_end(std::size_t p) const { return p >= s_.size(); }
    char at(std::size_t p) const { return p < s_.size() ? s_[p] : '\0'; }
    bool eol(std::size_t p) const { return at_end(p) || s_[p] == '\n' || s_[p] == '\r'; }

    // Move pos_ to the start of the next line with content; return its indentation, or -1 at the end.
    int next_content_indent() {
        std::size_t p = pos_;
        // pos_ may be inside a line only at its start; normalise to the line start
        while (!at_end(p)) {
            std::size_t q = p;
            while (at(q) == ' ') ++q;
            if (at(q) == '\t') fail(q, "tab characters are not allowed in indentation");
            const bool marker = (q == p && s_.compare(q, 3, "---") == 0 && (eol(q + 3) || at(q + 3) == ' '));
            if (eol(q) || at(q) == '#' || marker) {
                while (!at_end(q) && s_[q] != '\n') ++q;
                p = at_end(q) ? q : q + 1;
                continue;
            }
            pos_ = p;
            return int(q - p);
        }
        pos_ = s_.size();
        return -1;
    }

    void skip_spaces() {
        while (at(pos_) == ' ' || at(pos_) == '\t') ++pos_;
    }
    // After a value on a block line: only spaces and a comment may follow.
    void end_line() {
        skip_spaces();
        if (at(pos_) == '#')
            while (!at_end(pos_) && s_[pos_] != '\n') ++pos_;
        if (at(pos_) == '\r') ++pos_;
        if (at_end(pos_)) return;
        if (s_[pos_] != '\n') fail(pos_, "unexpected text '" + s_.substr(pos_, 20) + "'");
        ++pos_;
    }
    bool rest_of_line_empty() {
        std::size_t p = pos_;
        while (at(p) == ' ') ++p;
        return eol(p) || at(p) == '#';
    }
    bool is_dash(std::size_t p) const { return at(p) == '-' && (eol(p + 1) || at(p + 1) == ' '); }

    Node block(int min_indent) {
        const Nest nest(*this, pos_);
        const int ind = next_content_indent();
        if (ind < min_indent) return Node{};
        if (is_dash(pos_ + ind)) return block_sequence(ind);
        return block_mapping(ind);
    }

    // inline_first: the first key starts at pos_, after a sequence item's "- " (a compact mapping
    // "- key: value" whose further keys are indented to the column of the first, ind)
    Node block_mapping(int ind, bool inline_first = false) {
        Node m;
        m.kind = Node::Kind::Mapping;
        m.line = line_of(inline_first ? pos_ : pos_ + ind);
        for (bool first = true;; first = false) {
            if (!(first && inline_first)) {
                const int i = next_content_indent();
                if (i < ind) break;
                if (i > ind) fail(pos_ + i, "unexpected indentation");
                if (is_dash(pos_ + ind)) break;
                pos_ += ind;
            }
            Node key = block_key();
            if (at(pos_) != ':') fail(pos_, "expected ':' after a mapping key");
            ++pos_;
            Node value;
            if (rest_of_line_empty()) {
                end_line();
                const int j = next_content_indent();
                if (j > ind) value = block(j);
                else if (j == ind && is_dash(pos_ + ind)) value = block_sequence(ind);
            } else {
                skip_spaces();
                value = inline_value();
                end_line();
            }
            m.entries.emplace_back(std::move(key), std::move(value));
        }
        return m;
    }

    Node block_sequence(int ind) {
        Node seq;
        seq.kind = Node::Kind::Sequence;
        seq.line = line_of(pos_ + ind);
        for (;;) {
            const int i = next_content_indent();
            if (i != ind || !is_dash(pos_ + ind)) {
                if (i > ind) fail(pos_ + i, "unexpected indentation");
                break;
            }
            pos_ += ind + 1;
            if (rest_of_line_empty()) {
                end_line();
                seq.items.push_back(block(ind + 1));
            } else {
                skip_spaces();
                const char c = at(pos_);
                if (c != '[' && c != '{' && c != '\'' && c != '"' && plain_has_key_indicator()) {
                    // "- key: value": a block mapping whose keys sit at the column of the first key
                    const int col = int(pos_ - line_start_[line_of(pos_) - 1]);
                    seq.items.push_back(block_mapping(col, true));
                    continue;
                }
                seq.items.push_back(inline_value());
                end_line();
            }
        }
        return seq;
    }

    bool plain_has_key_indicator() const {
        for (std::size_t p = pos_; !eol(p); ++p) {
            if (s_[p] == '#' && p > pos_ && s_[p - 1] == ' ') return false;
            if (s_[p] == ':' && (eol(p + 1) || at(p + 1) == ' ')) return true;
        }
        return false;
    }

    Node block_key() {
        const char c = at(pos_);
        if (c == '[' || c == '{') return flow();
        if (c == '\'' || c == '"') return quoted();
        Node n;
        n.kind = Node::Kind::Scalar;
        n.line = line_of(pos_);
        const std::size_t b = pos_;
        while (!eol(pos_) && !(s_[pos_] == ':' && (eol(pos_ + 1) || at(pos_ + 1) == ' '))) ++pos_;
        if (eol(pos_)) fail(b, "expected 'key: value'");
        n.scalar = trim(s_.substr(b, pos_ - b));
        return n;
    }

    Node inline_value() {
        const char c = at(pos_);
        if (c == '[' || c == '{') return flow();
        if (c == '\'' || c == '"') return quoted();
        if (c == '|' || c == '>' || c == '&' || c == '*' || c == '!')
            fail(pos_, std::string("unsupported YAML feature '") + c + "'");
        Node n;
        n.kind = Node::Kind::Scalar;
        n.line = line_of(pos_);
        const std::size_t b = pos_;
        while (!eol(pos_) && !(s_[pos_] == '#' && pos_ > b && s_[pos_ - 1] == ' ')) ++pos_;
        n.scalar = trim(s_.substr(b, pos_ - b));
        return n;
    }

    void skip_flow_space() {
        for (;;) {
            const char c = at(pos_);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                ++pos_;
            } else if (c == '#') {
                while (!at_end(pos_) && s_[pos_] != '\n') ++pos_;
            } else {
                return;
            }
        }
    }

    Node flow() {
        const Nest nest(*this, pos_);
        skip_flow_space();
        const std::size_t b = pos_;
        const char c = at(pos_);
        if (at_end(pos_)) fail(b, "unexpected end of file inside a flow collection");
        if (c == '[') {
            Node seq;
            seq.kind = Node::Kind::Sequence;
            seq.line = line_of(b);
            ++pos_;
            for (;;) {
                skip_flow_space();
                if (at(pos_) == ']') {
                    ++pos_;
                    return seq;
                }
                seq.items.push_back(flow());
                skip_flow_space();
                if (at(pos_) == ',') ++pos_;
                else if (at(pos_) != ']') fail(pos_, "expected ',' or ']' in a flow sequence");
            }
        }
        if (c == '{') {
            Node m;
            m.kind = Node::Kind::Mapping;
            m.line = line_of(b);
            ++pos_;
            for (;;) {
                skip_flow_space();
                if (at(pos_) == '}') {
                    ++pos_;
                    return m;
                }
                Node key = flow();
                skip_flow_space();
                if (at(pos_) != ':') fail(pos_, "expected ':' in a flow mapping");
                ++pos_;
                skip_flow_space();
                Node value;
                if (at(pos_) != ',' && at(pos_) != '}') value = flow();
                m.entries.emplace_back(std::move(key), std::move(value));
                skip_flow_space();
                if (at(pos_) == ',') ++pos_;
                else if (at(pos_) != '}') fail(pos_, "expected ',' or '}' in a flow mapping");
            }
        }
        if (c == '\'' || c == '"') return quoted();
        if (c == ']' || c == '}' || c == ',') fail(b, std::string("unexpected '") + c + "'");
        if (c == '&' || c == '*' || c == '!' || c == '|' || c == '>')
            fail(b, std::string("unsupported YAML feature '") + c + "'");
        Node n;
        n.kind = Node::Kind::Scalar;
        n.line = line_of(b);
        while (!at_end(pos_)) {
            const char d = s_[pos_];
            if (d == ',' || d == '[' || d == ']' || d == '{' || d == '}' || d == '\n' || d == '\r') break;
            if (d == ':' && (eol(pos_ + 1) || at(pos_ + 1) == ' ' || at(pos_ + 1) == ',' || at(pos_ + 1) == '}' ||
                             at(pos_ + 1) == ']'))
                break;
            if (d == '#' && pos_ > b && s_[pos_ - 1] == ' ') break;
            ++pos_;
        }
        n.scalar = trim(s_.substr(b, pos_ - b));
        if (n.scalar.empty()) fail(b, "empty value in a flow collection");
        return n;
    }

    Node quoted() {
        const std::size_t b = pos_;
        const char q = s_[pos_++];
        Node n;
        n.kind = Node::Kind::Scalar;
        n.line = line_of(b);
        for (;;) {
            if (at_end(pos_)) fail(b, "unterminated quoted string");
            const char c = s_[pos_++];
            if (c == q) {
                if (q == '\'' && at(pos_) == '\'') {
                    n.scalar += '\'';
                    ++pos_;
                    continue;
                }
                return n;
            }
            if (q == '"' && c == '\\') {
                const char e = at(pos_++);
                n.scalar += e == 'n' ? '\n' : e == 't' ? '\t' : e;
                continue;
            }
            n.scalar += c;
        }
    }

    static std::string trim(const std::string& t) {
        const auto b = t.find_first_not_of(" \t\r");
        if (b == std::string::npos) return {};
        const auto e = t.find_last_not_of(" \t\r");
        return t.substr(b, e - b + 1);
    }
};

}  // namespace

Node parse(const std::string& text, const std::string& source) { return Parser(text, source).document(); }

Node parse_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot open file");
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) throw InputError(path + ": read error");
    return parse(buf.str(), path);
}

}  // namespace forcefit::yaml
