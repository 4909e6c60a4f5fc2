"""Command-line tools. Each is a thin layer over the library; see ``forcefit --help``."""
