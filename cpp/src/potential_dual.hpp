// Forward-mode dual numbers with a compile-time number of tangents, used by the kernels to get
// the derivatives of per-pair and per-site quantities with respect to the few parameters they
// depend on. Private to the kernels (not part of the public headers).
#pragma once

#include <array>
#include <cmath>

namespace forcefit::detail {

template <int K>
struct Dual {
    double v = 0.0;
    std::array<double, K> d{};

    Dual() = default;
    Dual(double value) : v(value) {}  // NOLINT: constants promote implicitly

    /// A seeded variable: value x, tangent 1 in slot k.
    static Dual variable(double x, int k) {
        Dual r(x);
        r.d[k] = 1.0;
        return r;
    }

    Dual& operator+=(const Dual& o) {
        v += o.v;
        for (int k = 0; k < K; ++k) d[k] += o.d[k];
        return *this;
    }
    Dual& operator-=(const Dual& o) {
        v -= o.v;
        for (int k = 0; k < K; ++k) d[k] -= o.d[k];
        return *this;
    }
    Dual& operator*=(const Dual& o) {
        for (int k = 0; k < K; ++k) d[k] = d[k] * o.v + v * o.d[k];
        v *= o.v;
        return *this;
    }
    Dual& operator*=(double s) {
        v *= s;
        for (int k = 0; k < K; ++k) d[k] *= s;
        return *this;
    }
};

template <int K>
inline Dual<K> operator+(Dual<K> a, const Dual<K>& b) { return a += b; }
template <int K>
inline Dual<K> operator-(Dual<K> a, const Dual<K>& b) { return a -= b; }
template <int K>
inline Dual<K> operator-(const Dual<K>& a) {
    Dual<K> r;
    r.v = -a.v;
    for (int k = 0; k < K; ++k) r.d[k] = -a.d[k];
    return r;
}
template <int K>
inline Dual<K> operator*(Dual<K> a, const Dual<K>& b) { return a *= b; }
template <int K>
inline Dual<K> operator*(Dual<K> a, double s) { return a *= s; }
template <int K>
inline Dual<K> operator*(double s, Dual<K> a) { return a *= s; }
template <int K>
inline Dual<K> operator+(Dual<K> a, double s) { a.v += s; return a; }
template <int K>
inline Dual<K> operator+(double s, Dual<K> a) { a.v += s; return a; }
template <int K>
inline Dual<K> operator-(Dual<K> a, double s) { a.v -= s; return a; }
template <int K>
inline Dual<K> operator-(double s, const Dual<K>& a) { return s + (-a); }
template <int K>
inline Dual<K> operator/(const Dual<K>& a, const Dual<K>& b) {
    Dual<K> r;
    const double inv = 1.0 / b.v;
    r.v = a.v * inv;
    for (int k = 0; k < K; ++k) r.d[k] = (a.d[k] - r.v * b.d[k]) * inv;
    return r;
}
template <int K>
inline Dual<K> operator/(const Dual<K>& a, double s) { return a * (1.0 / s); }
template <int K>
inline Dual<K> operator/(double s, const Dual<K>& b) { return Dual<K>(s) / b; }

template <int K>
inline Dual<K> exp(const Dual<K>& a) {
    Dual<K> r;
    r.v = std::exp(a.v);
    for (int k = 0; k < K; ++k) r.d[k] = r.v * a.d[k];
    return r;
}
template <int K>
inline Dual<K> log(const Dual<K>& a) {
    Dual<K> r;
    r.v = std::log(a.v);
    const double inv = 1.0 / a.v;
    for (int k = 0; k < K; ++k) r.d[k] = a.d[k] * inv;
    return r;
}
template <int K>
inline Dual<K> sqrt(const Dual<K>& a) {
    Dual<K> r;
    r.v = std::sqrt(a.v);
    const double half_inv = r.v > 0.0 ? 0.5 / r.v : 0.0;
    for (int k = 0; k < K; ++k) r.d[k] = a.d[k] * half_inv;
    return r;
}

/// Value of a plain double or a dual.
inline double value_of(double x) { return x; }
template <int K>
inline double value_of(const Dual<K>& x) { return x.v; }

}  // namespace forcefit::detail
