"""A bound on the nesting depth of a YAML text, checked before a YAML loader sees it.

PyYAML's loaders (the libyaml-based ones included) compose nested nodes recursively.  Deeply nested
input (``[[[[...`` or ``- - - - ...``) then either raises ``RecursionError`` or, when the
interpreter's recursion limit has been raised (as test runners and some applications do),
overflows the C stack and kills the process.  :func:`nesting_bound` scans the text once, without
parsing, and returns an upper bound of the depth: the deepest flow nesting (``[``/``{`` outside
quoted scalars and comments) plus the largest block nesting of any line (its indentation plus the
``-``/``?`` indicators that open it).  Potential and input files nest a handful of levels; callers
reject texts whose bound exceeds :data:`MAX_NESTING`.
"""

from __future__ import annotations

import re

#: Largest nesting bound accepted by the readers (real files stay below ~20).
MAX_NESTING = 200


#: Lines whose loose bound (depth before + openers on the line) stays below this skip the exact scan;
#: lines with many lists (radcoefficients of a bond) are scanned exactly, so they are never over-counted.
_LOOSE_OK = 32
_BLOCK_PREFIX = re.compile(r"[ \t]*(?:[-?][ \t]+)*")


def nesting_bound(text: str) -> int:
    """Upper bound of the node nesting depth of YAML ``text`` (see the module docstring).

    Lines without quote or comment characters and with few brackets (nearly all lines of a potential
    file) are counted with ``str.count``: the flow depth before the line plus the openers on it bounds
    the depth inside it.  Other lines, and lines inside a quoted scalar that spans lines, are scanned
    character by character.
    """
    flow = flow_max = block_max = 0
    quote = ""
    for line in text.split("\n"):
        # each level of block nesting takes at least one character of indentation or a "- "/"? " indicator
        block_max = max(block_max, _BLOCK_PREFIX.match(line).end())
        if not quote and "'" not in line and '"' not in line and "#" not in line:
            opened = line.count("[") + line.count("{")
            if flow + opened <= _LOOSE_OK:  # the loose bound is small enough to accept as it is
                flow_max = max(flow_max, flow + opened)
                flow = max(0, flow + opened - line.count("]") - line.count("}"))
                continue
        flow, flow_max, quote = _scan_line(line, flow, flow_max, quote)
    return flow_max + block_max + 1


def _scan_line(line: str, flow: int, flow_max: int, quote: str):
    """Exact flow-depth scan of one line, skipping quoted scalars (which may continue) and comments."""
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                if quote == "'" and i + 1 < n and line[i + 1] == "'":
                    i += 2
                    continue
                quote = ""
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            break
        elif c in "[{":
            flow += 1
            flow_max = max(flow_max, flow)
        elif c in "]}":
            flow = max(0, flow - 1)
        elif c in "'\"" and (i == 0 or line[i - 1] in " \t[{,:-?"):
            quote = c
        i += 1
    return flow, flow_max, quote


def nesting_problem(text: str) -> str:
    """A problem description when ``text`` nests deeper than :data:`MAX_NESTING`, else ``""``."""
    bound = nesting_bound(text)
    if bound > MAX_NESTING:
        return f"nesting too deep for a potential file (bound {bound} > {MAX_NESTING} levels)"
    return ""
