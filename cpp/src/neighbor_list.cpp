// Linked-cell full neighbor list; the design is described in forcefit/neighbor_list.hpp.
#include "forcefit/neighbor_list.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <sstream>
#include <string>

#include "forcefit/cell_geometry.hpp"
#include "forcefit/error.hpp"

#ifdef FORCEFIT_HAVE_OPENMP
#include <omp.h>
#endif

namespace forcefit {

namespace {

// Bin width as a fraction of the cutoff: bins of half the cutoff hold about 1-2 atoms at solid
// densities and cut the candidate volume from 27 rc^3 (bins of width rc) to about 11 rc^3.
constexpr double kBinWidthPerCutoff = 0.5;
// At most this many bins per atom (and at least kMinBinCap), so memory stays linear in N.
constexpr double kBinsPerAtom = 2.0;
constexpr double kMinBinCap = 27.0;
// Refuse searches that would visit more bin offsets than this (a cell far thinner than the cutoff).
constexpr double kMaxStencilOffsets = 2.0e8;
// Candidates with |d^2 - rc^2| below this relative window are decided on D recomputed exactly as
// ASE does (positions[j] - positions[i] + S @ cell), so pairs at the cutoff agree with ASE.
constexpr double kBoundaryWindow = 1e-9;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && (a < 0)) --q;
    return q;
}

std::string number(double x) {
    std::ostringstream out;
    out.precision(17);
    out << x;
    return out.str();
}

// Bins: parallelepipeds in fractional space; bin coordinate along k is floor((f_k - origin_k) * scale_k).
struct Grid {
    std::array<std::int64_t, 3> n{1, 1, 1};
    Vec3 origin{0, 0, 0};
    Vec3 scale{1, 1, 1};
    std::int64_t total() const { return n[0] * n[1] * n[2]; }
};

// One row of the stencil: offsets (o0, o1, o2) for o0 in [lo, hi].
struct StencilRow {
    int o1, o2, lo, hi;
};

// Atoms sorted by bin (structure of arrays) plus per-atom data in input order.
struct BinnedAtoms {
    std::vector<std::int64_t> bin_start;        // [n_bins + 1]
    std::vector<double> x, y, z;                // wrapped Cartesian positions, bin order
    std::vector<std::int32_t> index;            // input index, bin order
    std::vector<std::int32_t> wrap;             // [., 3] wrap w (wrapped = r - w @ lattice), bin order
    std::vector<std::int32_t> species;          // bin order (per-species cutoffs only)
    std::vector<double> wrapped_input;          // [N, 3] wrapped positions, input order
    std::vector<std::int32_t> wrap_input;       // [N, 3], input order
    std::vector<std::int64_t> bin3_input;       // [N, 3] bin coordinates, input order
};

void check_positions(const AtomsView& atoms) {
    if (atoms.n_atoms > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        throw InputError("positions: " + std::to_string(atoms.n_atoms) +
                         " atoms, more than the 2^31-1 a neighbor list supports");
    for (std::size_t a = 0; a < 3 * atoms.n_atoms; ++a) {
        if (!std::isfinite(atoms.positions[a])) {
            std::ostringstream msg;
            msg << "positions: atom " << a / 3 << " has a non-finite coordinate ("
                << atoms.positions[a - a % 3] << ", " << atoms.positions[a - a % 3 + 1] << ", "
                << atoms.positions[a - a % 3 + 2] << ")";
            throw InputError(msg.str());
        }
    }
}

void check_cutoff(double cutoff) {
    if (!std::isfinite(cutoff) || !(cutoff > 0.0))
        throw InputError("cutoff: must be a finite number > 0, got " + number(cutoff));
}

Grid choose_grid(const CellGeometry& g, const std::vector<Vec3>& frac, double radius,
                 const Vec3& fmin, const Vec3& fmax) {
    Vec3 span;  // extent across the planes of direction k (Å)
    for (int k = 0; k < 3; ++k)
        span[k] = g.pbc[k] ? g.plane_distance[k] : (fmax[k] - fmin[k]) * g.plane_distance[k];
    const double cap = std::max(kMinBinCap, kBinsPerAtom * double(frac.size()));
    double width = radius * kBinWidthPerCutoff;
    Grid grid;
    for (int attempt = 0; attempt < 64; ++attempt) {
        double total = 1.0;
        for (int k = 0; k < 3; ++k) {
            const double nk = std::max(1.0, std::floor(std::min(span[k] / width, 1e9)));
            grid.n[k] = static_cast<std::int64_t>(nk);
            total *= nk;
        }
        if (total <= cap) break;
        width *= std::cbrt(total / cap) * 1.0001;
    }
    for (int k = 0; k < 3; ++k) {
        if (g.pbc[k]) {
            grid.origin[k] = 0.0;
            grid.scale[k] = double(grid.n[k]);
        } else {
            const double extent = fmax[k] - fmin[k];
            grid.origin[k] = fmin[k];
            grid.scale[k] = extent > 0.0 ? double(grid.n[k]) / extent : 1.0;
        }
    }
    return grid;
}

BinnedAtoms bin_atoms(const AtomsView& atoms, const CellGeometry& g, double radius,
                      const std::int32_t* species, Grid& grid_out) {
    const std::size_t n = atoms.n_atoms;
    BinnedAtoms b;
    std::vector<Vec3> frac(n);
    b.wrap_input.assign(3 * n, 0);
    b.wrapped_input.resize(3 * n);
    Vec3 fmin{INFINITY, INFINITY, INFINITY}, fmax{-INFINITY, -INFINITY, -INFINITY};
    for (std::size_t a = 0; a < n; ++a) {
        const double* r = atoms.positions + 3 * a;
        Vec3 f = to_fractional(g, r);
        double wr[3] = {0.0, 0.0, 0.0};
        for (int k = 0; k < 3; ++k) {
            if (g.pbc[k]) {
                const double whole = std::floor(f[k]);
                if (std::abs(whole) > 1e9) {
                    std::ostringstream msg;
                    msg << "positions: atom " << a << " at (" << r[0] << ", " << r[1] << ", " << r[2]
                        << ") lies " << whole << " cells away from the cell along periodic direction "
                        << k;
                    throw InputError(msg.str());
                }
                wr[k] = whole;
                b.wrap_input[3 * a + k] = static_cast<std::int32_t>(whole);
                f[k] -= whole;
            } else {
                fmin[k] = std::min(fmin[k], f[k]);
                fmax[k] = std::max(fmax[k], f[k]);
            }
        }
        const Vec3 back = lattice_combination(g.lattice, wr[0], wr[1], wr[2]);
        for (int c = 0; c < 3; ++c) b.wrapped_input[3 * a + c] = r[c] - back[c];
        frac[a] = f;
    }
    const Grid grid = choose_grid(g, frac, radius, fmin, fmax);

    b.bin3_input.resize(3 * n);
    std::vector<std::int64_t> bin_of(n);
    for (std::size_t a = 0; a < n; ++a) {
        std::int64_t lin = 0;
        for (int k = 2; k >= 0; --k) {
            const double t = (frac[a][k] - grid.origin[k]) * grid.scale[k];
            const std::int64_t bk = t <= 0.0 ? 0
                                    : t >= double(grid.n[k]) ? grid.n[k] - 1
                                                             : static_cast<std::int64_t>(t);
            b.bin3_input[3 * a + k] = bk;
            lin = lin * grid.n[k] + bk;
        }
        bin_of[a] = lin;
    }

    // Counting sort by bin; stable, so atoms of one bin stay in input order.
    const std::int64_t n_bins = grid.total();
    b.bin_start.assign(n_bins + 1, 0);
    for (std::size_t a = 0; a < n; ++a) ++b.bin_start[bin_of[a] + 1];
    for (std::int64_t q = 0; q < n_bins; ++q) b.bin_start[q + 1] += b.bin_start[q];
    std::vector<std::int64_t> fill(b.bin_start.begin(), b.bin_start.end() - 1);
    b.x.resize(n);
    b.y.resize(n);
    b.z.resize(n);
    b.index.resize(n);
    b.wrap.resize(3 * n);
    if (species) b.species.resize(n);
    for (std::size_t a = 0; a < n; ++a) {
        const std::int64_t s = fill[bin_of[a]]++;
        b.x[s] = b.wrapped_input[3 * a];
        b.y[s] = b.wrapped_input[3 * a + 1];
        b.z[s] = b.wrapped_input[3 * a + 2];
        b.index[s] = static_cast<std::int32_t>(a);
        for (int k = 0; k < 3; ++k) b.wrap[3 * s + k] = b.wrap_input[3 * a + k];
        if (species) b.species[s] = species[a];
    }
    grid_out = grid;
    return b;
}

std::vector<StencilRow> build_stencil(const CellGeometry& g, const Grid& grid, double radius) {
    int reach[3];
    double offsets = 1.0;
    for (int k = 0; k < 3; ++k) {
        const double bin_depth = g.plane_distance[k] / grid.scale[k];  // Å across planes per bin
        double r = std::ceil(radius / bin_depth) + 1.0;
        if (!g.pbc[k]) r = std::min(r, double(grid.n[k] - 1));
        offsets *= 2.0 * r + 1.0;
        if (offsets > kMaxStencilOffsets) {
            std::ostringstream msg;
            msg << "cutoff: " << radius << " Å needs more than " << kMaxStencilOffsets
                << " periodic images/bins for a cell with plane distances (" << g.plane_distance[0]
                << ", " << g.plane_distance[1] << ", " << g.plane_distance[2] << ") Å";
            throw InputError(msg.str());
        }
        reach[k] = static_cast<int>(r);
    }
    // Two points in bins whose coordinates differ by o differ in fractional coordinates by
    // delta_k in ((o_k - 1) w_k, (o_k + 1) w_k); keep o if such a delta can be shorter than radius.
    Vec3 width, slack;
    for (int k = 0; k < 3; ++k) {
        width[k] = 1.0 / grid.scale[k];
        slack[k] = 1e-9 * width[k];
    }
    const double keep_below = radius * (1.0 + 1e-9);
    std::vector<StencilRow> rows;
    for (int o2 = -reach[2]; o2 <= reach[2]; ++o2) {
        for (int o1 = -reach[1]; o1 <= reach[1]; ++o1) {
            int lo = reach[0] + 1, hi = -reach[0] - 1;
            for (int o0 = -reach[0]; o0 <= reach[0]; ++o0) {
                const int o[3] = {o0, o1, o2};
                Vec3 box_lo, box_hi;
                for (int k = 0; k < 3; ++k) {
                    box_lo[k] = (o[k] - 1) * width[k] - slack[k];
                    box_hi[k] = (o[k] + 1) * width[k] + slack[k];
                }
                if (min_norm_over_box(g.lattice, box_lo, box_hi) < keep_below) {
                    lo = std::min(lo, o0);
                    hi = std::max(hi, o0);
                }
            }
            if (lo <= hi) rows.push_back({o1, o2, lo, hi});
        }
    }
    return rows;
}

// Pairs found by one thread for a contiguous range of centers.
struct ThreadPairs {
    std::vector<std::int32_t> j, shifts;
    std::vector<double> vectors, distances;
};

struct SearchSetup {
    const AtomsView* atoms;
    const CellGeometry* geometry;
    const Grid* grid;
    const BinnedAtoms* binned;
    const std::vector<StencilRow>* stencil;
    const NeighborListOptions* options;
    double radius;
    const double* cutoff_matrix;  // null for a single cutoff
    const std::int32_t* species;
    int n_species;
};

// Squared-cutoff bounds: below lo a candidate is a pair, at or above hi it is not, in between the
// exact ASE test decides.
struct CutoffBounds {
    double cutoff, lo, hi;
};
CutoffBounds bounds_for(double rc) {
    return {rc, rc * rc * (1.0 - kBoundaryWindow), rc * rc * (1.0 + kBoundaryWindow)};
}

template <bool PerSpecies>
void search_range(const SearchSetup& s, std::int64_t begin, std::int64_t end, ThreadPairs& out,
                  std::int64_t* counts) {
    const CellGeometry& g = *s.geometry;
    const Grid& grid = *s.grid;
    const BinnedAtoms& b = *s.binned;
    const NeighborListOptions& opt = *s.options;
    const double* xs = b.x.data();
    const double* ys = b.y.data();
    const double* zs = b.z.data();
    const std::int32_t* sp = PerSpecies ? b.species.data() : nullptr;
    std::vector<std::int64_t> candidates(64);
    std::vector<CutoffBounds> row_bounds(PerSpecies ? s.n_species : 1);
    std::vector<double> row_hi(row_bounds.size());
    CutoffBounds single = bounds_for(s.radius);

    for (std::int64_t i = begin; i < end; ++i) {
        const std::size_t before = out.j.size();
        if (PerSpecies) {
            const std::int32_t si = s.species[i];
            for (int t = 0; t < s.n_species; ++t) {
                row_bounds[t] = bounds_for(s.cutoff_matrix[si * s.n_species + t]);
                row_hi[t] = row_bounds[t].hi;
            }
        }
        const double* ri = &b.wrapped_input[3 * i];
        const std::int32_t* wi = &b.wrap_input[3 * i];
        const std::int64_t* bi = &b.bin3_input[3 * i];

        for (const StencilRow& row : *s.stencil) {
            std::int64_t m[3], shift[3];
            bool outside = false;
            for (int k = 1; k < 3; ++k) {
                const std::int64_t c = bi[k] + (k == 1 ? row.o1 : row.o2);
                if (g.pbc[k]) {
                    shift[k] = floor_div(c, grid.n[k]);
                    m[k] = c - shift[k] * grid.n[k];
                } else {
                    if (c < 0 || c >= grid.n[k]) outside = true;
                    shift[k] = 0;
                    m[k] = c;
                }
            }
            if (outside) continue;
            const std::int64_t row_base = (m[2] * grid.n[1] + m[1]) * grid.n[0];
            std::int64_t c0 = bi[0] + row.lo, c0_end = bi[0] + row.hi;
            if (!g.pbc[0]) {
                c0 = std::max<std::int64_t>(c0, 0);
                c0_end = std::min<std::int64_t>(c0_end, grid.n[0] - 1);
            }
            while (c0 <= c0_end) {
                // One run of bins along direction 0 that shares a lattice shift: contiguous atoms.
                std::int64_t len;
                if (g.pbc[0]) {
                    shift[0] = floor_div(c0, grid.n[0]);
                    m[0] = c0 - shift[0] * grid.n[0];
                    len = std::min(c0_end - c0, grid.n[0] - 1 - m[0]) + 1;
                } else {
                    shift[0] = 0;
                    m[0] = c0;
                    len = c0_end - c0 + 1;
                }
                c0 += len;
                const std::int64_t first_atom = b.bin_start[row_base + m[0]];
                const std::int64_t last_atom = b.bin_start[row_base + m[0] + len];
                if (first_atom == last_atom) continue;
                const Vec3 offset = lattice_combination(g.lattice, double(shift[0]), double(shift[1]),
                                                        double(shift[2]));
                const double cx = ri[0] - offset[0], cy = ri[1] - offset[1], cz = ri[2] - offset[2];

                if (std::int64_t(candidates.size()) < last_atom - first_atom)
                    candidates.resize(2 * (last_atom - first_atom));
                std::int64_t n_cand = 0;
                for (std::int64_t q = first_atom; q < last_atom; ++q) {
                    const double dx = xs[q] - cx, dy = ys[q] - cy, dz = zs[q] - cz;
                    const double d2 = dx * dx + dy * dy + dz * dz;
                    const double limit = PerSpecies ? row_hi[sp[q]] : single.hi;
                    candidates[n_cand] = q;
                    n_cand += d2 < limit;
                }

                for (std::int64_t c = 0; c < n_cand; ++c) {
                    const std::int64_t q = candidates[c];
                    const std::int32_t jo = b.index[q];
                    const std::int32_t S0 = std::int32_t(shift[0]) - b.wrap[3 * q] + wi[0];
                    const std::int32_t S1 = std::int32_t(shift[1]) - b.wrap[3 * q + 1] + wi[1];
                    const std::int32_t S2 = std::int32_t(shift[2]) - b.wrap[3 * q + 2] + wi[2];
                    if (jo == i && S0 == 0 && S1 == 0 && S2 == 0 && !opt.self_interaction) continue;
                    double dx = xs[q] - cx, dy = ys[q] - cy, dz = zs[q] - cz;
                    double d2 = dx * dx + dy * dy + dz * dz;
                    const CutoffBounds& cb = PerSpecies ? row_bounds[sp[q]] : single;
                    if (d2 >= cb.lo) {
                        // Near the cutoff: decide exactly as ASE, on D from the input positions.
                        const double* rj = s.atoms->positions + 3 * std::size_t(jo);
                        const double* r0 = s.atoms->positions + 3 * std::size_t(i);
                        const Vec3 sc = lattice_combination(g.input, S0, S1, S2);
                        dx = rj[0] - r0[0] + sc[0];
                        dy = rj[1] - r0[1] + sc[1];
                        dz = rj[2] - r0[2] + sc[2];
                        d2 = dx * dx + dy * dy + dz * dz;
                        if (!(std::sqrt(d2) < cb.cutoff)) continue;
                    }
                    out.j.push_back(jo);
                    if (opt.want_shifts) {
                        out.shifts.push_back(S0);
                        out.shifts.push_back(S1);
                        out.shifts.push_back(S2);
                    }
                    if (opt.want_vectors) {
                        out.vectors.push_back(dx);
                        out.vectors.push_back(dy);
                        out.vectors.push_back(dz);
                    }
                    if (opt.want_distances) out.distances.push_back(std::sqrt(d2));
                }
            }
        }
        counts[i] = static_cast<std::int64_t>(out.j.size() - before);
    }
}

int thread_count(std::int64_t n_centers) {
#ifdef FORCEFIT_HAVE_OPENMP
    const int max_threads = omp_get_max_threads();
    // Below a few hundred centers thread start-up costs more than it saves.
    const std::int64_t useful = std::max<std::int64_t>(1, n_centers / 256);
    return static_cast<int>(std::min<std::int64_t>(max_threads, useful));
#else
    (void)n_centers;
    return 1;
#endif
}

template <typename T>
void copy_into(std::vector<T>& dest, const std::vector<T>& src, std::size_t at) {
    if (!src.empty()) std::memcpy(dest.data() + at, src.data(), src.size() * sizeof(T));
}

NeighborPairs search(const AtomsView& atoms, double radius, const double* cutoff_matrix,
                     const std::int32_t* species, int n_species, const NeighborListOptions& options) {
    if (!atoms.positions && atoms.n_atoms > 0) throw InputError("positions: null pointer");
    if (!atoms.cell) throw InputError("cell: null pointer");
    if (!atoms.pbc) throw InputError("pbc: null pointer");
    check_positions(atoms);
    const CellGeometry geometry = make_cell_geometry(atoms.cell, atoms.pbc);
    const std::int64_t n_atoms = static_cast<std::int64_t>(atoms.n_atoms);
    const std::int64_t n_centers = options.n_centers < 0 ? n_atoms : options.n_centers;
    if (n_centers > n_atoms)
        throw InputError("n_centers: " + std::to_string(n_centers) + " is more than the " +
                         std::to_string(n_atoms) + " atoms");

    NeighborPairs result;
    result.first.assign(n_centers + 1, 0);
    if (n_atoms == 0 || n_centers == 0) return result;

    Grid grid;
    const BinnedAtoms binned = bin_atoms(atoms, geometry, radius, species, grid);
    const std::vector<StencilRow> stencil = build_stencil(geometry, grid, radius);
    const SearchSetup setup{&atoms,  &geometry, &grid,   &binned,   &stencil,
                            &options, radius,   cutoff_matrix, species, n_species};

    const int n_threads = thread_count(n_centers);
    // Centers are cut into contiguous chunks, several per thread and handed out dynamically (a
    // preempted thread on a shared machine then holds up little); each chunk has its own buffers,
    // concatenated in chunk order, so the output does not depend on the number of threads.
    const std::int64_t n_chunks =
        n_threads == 1 ? 1 : std::min<std::int64_t>(n_centers, std::int64_t(n_threads) * 16);
    std::vector<ThreadPairs> parts(n_chunks);
    std::vector<std::int64_t> counts(n_centers, 0);
    // Expected pairs per atom in a dense periodic system, to size the buffers once.
    std::size_t reserve_per_atom = 0;
    if (geometry.n_periodic == 3) {
        const double expected = 1.1 * 4.18879 * radius * radius * radius * double(n_atoms) / geometry.volume;
        reserve_per_atom = static_cast<std::size_t>(std::min(expected, 1e5));
    }
    auto chunk_begin = [&](std::int64_t c) { return n_centers * c / n_chunks; };

    auto run_chunk = [&](std::int64_t c) {
        const std::int64_t begin = chunk_begin(c), end = chunk_begin(c + 1);
        ThreadPairs& out = parts[c];
        const std::size_t expected = reserve_per_atom * std::size_t(end - begin);
        out.j.reserve(expected);
        if (options.want_shifts) out.shifts.reserve(3 * expected);
        if (options.want_vectors) out.vectors.reserve(3 * expected);
        if (options.want_distances) out.distances.reserve(expected);
        if (cutoff_matrix)
            search_range<true>(setup, begin, end, out, counts.data());
        else
            search_range<false>(setup, begin, end, out, counts.data());
    };

    if (n_chunks == 1) {
        run_chunk(0);
        for (std::int64_t c = 0; c < n_centers; ++c) result.first[c + 1] = result.first[c] + counts[c];
        result.j = std::move(parts[0].j);
        result.shifts = std::move(parts[0].shifts);
        result.vectors = std::move(parts[0].vectors);
        result.distances = std::move(parts[0].distances);
        result.i.resize(result.j.size());
        for (std::int64_t c = 0; c < n_centers; ++c)
            std::fill(result.i.begin() + result.first[c], result.i.begin() + result.first[c + 1],
                      static_cast<std::int32_t>(c));
        return result;
    }

#ifdef FORCEFIT_HAVE_OPENMP
    std::vector<std::size_t> part_start(n_chunks + 1, 0);
    std::exception_ptr failure;
#pragma omp parallel num_threads(n_threads)
    {
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t c = 0; c < n_chunks; ++c) {
            try {
                run_chunk(c);
            } catch (...) {
#pragma omp critical
                failure = std::current_exception();
            }
        }
#pragma omp single
        {
            if (!failure) {
                for (std::int64_t p = 0; p < n_chunks; ++p) part_start[p + 1] = part_start[p] + parts[p].j.size();
                const std::size_t total = part_start[n_chunks];
                for (std::int64_t c = 0; c < n_centers; ++c)
                    result.first[c + 1] = result.first[c] + counts[c];
                result.i.resize(total);
                result.j.resize(total);
                if (options.want_shifts) result.shifts.resize(3 * total);
                if (options.want_vectors) result.vectors.resize(3 * total);
                if (options.want_distances) result.distances.resize(total);
            }
        }
        if (!failure) {
#pragma omp for schedule(dynamic, 1)
            for (std::int64_t p = 0; p < n_chunks; ++p) {
                const std::size_t at = part_start[p];
                copy_into(result.j, parts[p].j, at);
                copy_into(result.shifts, parts[p].shifts, 3 * at);
                copy_into(result.vectors, parts[p].vectors, 3 * at);
                copy_into(result.distances, parts[p].distances, at);
                for (std::int64_t c = chunk_begin(p); c < chunk_begin(p + 1); ++c)
                    std::fill(result.i.begin() + result.first[c], result.i.begin() + result.first[c + 1],
                              static_cast<std::int32_t>(c));
                parts[p] = ThreadPairs();  // free the chunk buffers early
            }
        }
    }
    if (failure) std::rethrow_exception(failure);
#endif
    return result;
}

}  // namespace

NeighborPairs build_neighbor_list(const AtomsView& atoms, double cutoff,
                                  const NeighborListOptions& options) {
    check_cutoff(cutoff);
    return search(atoms, cutoff, nullptr, nullptr, 0, options);
}

NeighborPairs build_neighbor_list(const AtomsView& atoms, const SpeciesCutoffs& cutoffs,
                                  const NeighborListOptions& options) {
    const int ns = cutoffs.n_species;
    if (ns <= 0) throw InputError("cutoffs: need at least one species, got " + std::to_string(ns));
    if (!cutoffs.matrix || (!cutoffs.species && atoms.n_atoms > 0))
        throw InputError("cutoffs: null species or cutoff matrix");
    double largest = 0.0;
    for (int a = 0; a < ns; ++a) {
        for (int b = 0; b < ns; ++b) {
            const double v = cutoffs.matrix[a * ns + b];
            if (!std::isfinite(v) || v < 0.0)
                throw InputError("cutoffs: entry [" + std::to_string(a) + ", " + std::to_string(b) +
                                 "] must be finite and >= 0, got " + number(v));
            if (v != cutoffs.matrix[b * ns + a])
                throw InputError("cutoffs: matrix is not symmetric: [" + std::to_string(a) + ", " +
                                 std::to_string(b) + "] = " + number(v) + " but [" +
                                 std::to_string(b) + ", " + std::to_string(a) +
                                 "] = " + number(cutoffs.matrix[b * ns + a]));
            largest = std::max(largest, v);
        }
    }
    if (!(largest > 0.0)) throw InputError("cutoffs: all species-pair cutoffs are 0");
    for (std::size_t a = 0; a < atoms.n_atoms; ++a) {
        if (cutoffs.species[a] < 0 || cutoffs.species[a] >= ns)
            throw InputError("species: atom " + std::to_string(a) + " has species index " +
                             std::to_string(cutoffs.species[a]) + ", outside [0, " +
                             std::to_string(ns) + ")");
    }
    return search(atoms, largest, cutoffs.matrix, cutoffs.species, ns, options);
}

}  // namespace forcefit
