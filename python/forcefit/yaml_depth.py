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

#: Largest nesting bound accepted by the readers (real files stay below ~20).
MAX_NESTING = 200


def nesting_bound(text: str) -> int:
    """Upper bound of the node nesting depth of YAML ``text`` (see the module docstring)."""
    flow = flow_max = 0
    block_max = 0
    quote = ""
    line_start = True
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                if quote == "'" and i + 1 < n and text[i + 1] == "'":
                    i += 2
                    continue
                quote = ""
            i += 1
            continue
        if line_start:
            j = i
            while j < n and text[j] in " \t":
                j += 1
            depth = j - i
            while j + 1 < n and text[j] in "-?" and text[j + 1] in " \t":
                depth += 1
                j += 2
                while j < n and text[j] in " \t":
                    j += 1
            block_max = max(block_max, depth)
            line_start = False
            i = j
            continue
        if c == "\n":
            line_start = True
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n"):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        elif c in "[{":
            flow += 1
            flow_max = max(flow_max, flow)
        elif c in "]}":
            flow = max(0, flow - 1)
        elif c in "'\"" and (i == 0 or text[i - 1] in " \t\n[{,:-?"):
            quote = c
        i += 1
    return flow_max + block_max + 1


def nesting_problem(text: str) -> str:
    """A problem description when ``text`` nests deeper than :data:`MAX_NESTING`, else ``""``."""
    bound = nesting_bound(text)
    if bound > MAX_NESTING:
        return f"nesting too deep for a potential file (bound {bound} > {MAX_NESTING} levels)"
    return ""
