// The one interface every physics potential implements (LJ, SW, EDIP, ...).
//
// Design: a fit evaluates the same prepared batch many times with new parameters, so a
// potential is a stateless object that knows its species count and parameter layout, and
// `compute()` takes the batch, the flat parameter vector and the output buffers:
//
//   BatchView   every configuration of a dataset concatenated, with full neighbor lists in CSR
//               form per atom (pairs point at the owning atom; image shifts already applied to
//               rij), so kernels never see periodic images;
//   Outputs     caller-owned buffers, each optional (nullptr = not wanted), including the
//               derivatives of energy, forces and stress with respect to every parameter.
//
// Potential::compute() validates the batch, zeroes the requested buffers and runs
// compute_config() for each configuration on OpenMP threads. Each configuration is computed by
// one thread in a fixed order and writes only its own atoms and rows, so results do not depend
// on the number of threads. Kernels accumulate the strain derivative dE/dε of each
// configuration into the stress rows; compute() then divides by the volume (ASE stress
// convention: stress = (1/V) dE/dε, tensile positive, Voigt xx yy zz yz xz xy), or writes NaN
// for non-periodic configurations (volume 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace forcefit {

/// A batch of configurations with prebuilt full neighbor lists. Non-owning; all arrays C order.
struct BatchView {
    /// Number of configurations C.
    std::int64_t n_configs = 0;
    /// Total number of atoms N over all configurations.
    std::int64_t n_atoms = 0;
    /// Total number of (directed) neighbor pairs P.
    std::int64_t n_pairs = 0;
    /// Cutoff (Å) the neighbor lists were built with: every pair closer than this is listed.
    double cutoff = 0.0;
    /// [C+1] atoms of configuration c are atom_offset[c] .. atom_offset[c+1]-1.
    const std::int64_t* atom_offset = nullptr;
    /// [N] species index of each atom in the potential's species list (0-based).
    const std::int32_t* species = nullptr;
    /// [N+1] pairs of atom i are first[i] .. first[i+1]-1.
    const std::int64_t* first = nullptr;
    /// [P] global index of the atom owning neighbor j (same configuration as i).
    const std::int32_t* neigh = nullptr;
    /// [P,3] Å, vector from atom i to (the periodic image of) neighbor j: r_j + S·cell − r_i.
    const double* rij = nullptr;
    /// [C] Å^3 cell volume; 0 for non-periodic configurations (stress undefined there).
    const double* volume = nullptr;
};

/// Output buffers of Potential::compute(); every pointer may be nullptr (= not wanted).
/// The parameter derivatives are with respect to the flat parameter vector passed to compute():
/// all of it (P = Potential::num_params() columns), or only the components listed in
/// `selected` (P = n_selected columns, in that order), which saves the work for parameters a
/// fit keeps fixed.
struct Outputs {
    double* energy = nullptr;       ///< [C] eV
    double* atom_energy = nullptr;  ///< [N] eV, sums to energy per configuration
    double* forces = nullptr;       ///< [N,3] eV/Å, -dE/dr
    double* stress = nullptr;       ///< [C,6] eV/Å^3, (1/V) dE/dε, Voigt xx yy zz yz xz xy; NaN if V=0
    double* denergy = nullptr;      ///< [C,P] eV per parameter unit
    double* dforces = nullptr;      ///< [N,3,P]
    double* dstress = nullptr;      ///< [C,6,P]
    const std::int32_t* selected = nullptr;  ///< [n_selected] flat parameter indices, or nullptr = all
    std::size_t n_selected = 0;
    /// First configuration / atom held by the derivative buffers: the rows of configuration c
    /// start at denergy_row(c), dstress_row(c), those of atom i at dforces_rows(i). 0 for
    /// whole-batch buffers; Potential::loss_gradient() points them at one configuration's scratch.
    std::int64_t deriv_config0 = 0;
    std::int64_t deriv_atom0 = 0;

    bool any_param_derivative() const { return denergy || dforces || dstress; }
    /// [P] row of configuration c in denergy (nc = number of derivative columns).
    double* denergy_row(std::int64_t c, std::size_t nc) const {
        return denergy + static_cast<std::size_t>(c - deriv_config0) * nc;
    }
    /// [3,P] rows of atom i in dforces.
    double* dforces_rows(std::int64_t i, std::size_t nc) const {
        return dforces + 3 * static_cast<std::size_t>(i - deriv_atom0) * nc;
    }
    /// [6,P] rows of configuration c in dstress.
    double* dstress_rows(std::int64_t c, std::size_t nc) const {
        return dstress + 6 * static_cast<std::size_t>(c - deriv_config0) * nc;
    }
};

/// Weighted least-squares residuals of a fit: residual = scale * (prediction − reference) for
/// every fitted value, loss = 1/2 Σ residual². A scale of 0 marks a value that is not fitted (its
/// prediction is not read, so NaN there does not reach the loss); a nullptr scale array means no
/// residuals of that property. All arrays C order.
struct Residuals {
    const double* energy_scale = nullptr;  ///< [C] 1/eV (or any weight)
    const double* energy_ref = nullptr;    ///< [C] eV
    const double* forces_scale = nullptr;  ///< [N,3]
    const double* forces_ref = nullptr;    ///< [N,3] eV/Å
    const double* stress_scale = nullptr;  ///< [C,6]
    const double* stress_ref = nullptr;    ///< [C,6] eV/Å^3, ASE sign, Voigt xx yy zz yz xz xy
    /// Optional outputs for least-squares methods, rows in the order [energies C, forces 3N,
    /// stress 6C] of the properties that have residuals (R rows), 0 where a value is not fitted:
    double* residual_rows = nullptr;  ///< [R] the residuals
    double* jacobian_rows = nullptr;  ///< [R, n_cols] d residual/dθ = scale * d prediction/dθ
};

/// Where each parameter's derivative goes in the derivative outputs.
struct ParamColumns {
    std::vector<int> column;  ///< [num_params] output column of parameter t, −1 = not computed
    std::size_t n = 0;        ///< number of columns (last dimension of denergy/dforces/dstress)
    bool wanted(std::size_t t) const { return column[t] >= 0; }
    /// True when any component of the block [start, start+size) is wanted.
    bool any(std::size_t start, std::size_t size) const {
        for (std::size_t t = start; t < start + size; ++t) {
            if (column[t] >= 0) return true;
        }
        return false;
    }
};

/// Name and number of components of one parameter in the flat parameter vector.
struct ParameterBlock {
    std::string name;
    std::size_t size;
};

/// Index of the unordered species pair (a, b) in the upper-triangle order used by KIM/KLIFF:
/// (0,0),(0,1),...,(0,n-1),(1,1),...,(n-1,n-1).
inline int species_pair_index(int a, int b, int n_species) {
    if (a > b) {
        const int t = a;
        a = b;
        b = t;
    }
    return a * n_species + b - (a * a + a) / 2;
}

/// Number of unordered species pairs of n species.
inline int num_species_pairs(int n_species) { return n_species * (n_species + 1) / 2; }

class Potential {
public:
    explicit Potential(int n_species);
    virtual ~Potential() = default;

    int num_species() const { return n_species_; }

    /// The parameter layout: blocks in order, each flattened in C order.
    virtual std::vector<ParameterBlock> parameter_blocks() const = 0;

    /// Total length of the flat parameter vector.
    std::size_t num_params() const;

    /// Largest interaction distance (Å) for the given parameters: the neighbor lists must
    /// contain every pair closer than this.
    virtual double influence_distance(const double* params) const = 0;

    /// Checks the parameter values (e.g. positive cutoffs); throws InputError naming the bad one.
    virtual void check_params(const double* params) const;

    /// Fills the requested outputs for every configuration of the batch.
    /// Throws InputError on an inconsistent batch (species out of range, neighbors outside their
    /// configuration, neighbor list cutoff smaller than influence_distance(params)).
    void compute(const BatchView& batch, const double* params, const Outputs& out) const;

    /// Loss 1/2 Σ residual² of `residuals` and its gradient [n_cols] with respect to the
    /// parameters selected in `out` (all of them when out.selected is nullptr), in one pass: each
    /// configuration's parameter derivatives live in per-thread scratch and are contracted with
    /// its residuals at once (gradient = Σ residual · scale · d prediction/dθ), so the
    /// [N,3,P] derivative arrays are never stored. `out` must provide energy, forces and stress
    /// for the properties that have residuals (filled as by compute()) and no derivative buffers.
    /// Summed configuration by configuration in batch order: independent of the thread count.
    /// Fills residuals.residual_rows / jacobian_rows when given (each configuration its rows).
    double loss_gradient(const BatchView& batch, const double* params, const Residuals& residuals,
                         const Outputs& out, double* gradient) const;

protected:
    /// Computes configuration c. Buffers are zeroed beforehand; the kernel adds energy,
    /// atom_energy, forces, the strain derivative dE/dε (into the stress row, Voigt order) and
    /// the parameter derivatives of these for the atoms and rows of configuration c only.
    /// `cols` maps parameters to columns of the derivative outputs.
    virtual void compute_config(const BatchView& batch, std::int64_t c, const double* params,
                                const Outputs& out, const ParamColumns& cols) const = 0;

    /// Adds the strain-derivative contribution of one pair term: dE/dr (vector, eV/Å) acting
    /// along r (Å) to a Voigt row w (xx yy zz yz xz xy), symmetrised.
    static inline void add_virial(double* w, const double* dedr, const double* r, double scale = 1.0) {
        w[0] += scale * dedr[0] * r[0];
        w[1] += scale * dedr[1] * r[1];
        w[2] += scale * dedr[2] * r[2];
        w[3] += scale * 0.5 * (dedr[1] * r[2] + dedr[2] * r[1]);
        w[4] += scale * 0.5 * (dedr[0] * r[2] + dedr[2] * r[0]);
        w[5] += scale * 0.5 * (dedr[0] * r[1] + dedr[1] * r[0]);
    }

private:
    // compute() and loss_gradient(): with `residuals`, per-configuration loss terms go to
    // config_loss [C] and config_grad [C, n_cols] (derivatives in scratch), else derivatives to `out`.
    void run(const BatchView& batch, const double* params, const Outputs& out, const Residuals* residuals,
             std::vector<double>* config_loss, std::vector<double>* config_grad) const;
    void validate(const BatchView& batch, const double* params) const;
    void validate_config(const BatchView& batch, std::int64_t c) const;

    int n_species_;
};

/// Base of the kernels: a kernel writes `template <bool ParamDerivs> compute_config_impl(...)`
/// once (same arguments as compute_config) and this class picks the variant per call.
template <class Derived>
class KernelPotential : public Potential {
public:
    using Potential::Potential;

protected:
    void compute_config(const BatchView& batch, std::int64_t c, const double* params,
                        const Outputs& out, const ParamColumns& cols) const final {
        const Derived& self = static_cast<const Derived&>(*this);
        if (out.any_param_derivative() && cols.n > 0) {
            self.template compute_config_impl<true>(batch, c, params, out, cols);
        } else {
            self.template compute_config_impl<false>(batch, c, params, out, cols);
        }
    }
};

}  // namespace forcefit
