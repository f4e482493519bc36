"""Debian machine-readable (DEP-5) copyright files, for ``scripts/prepare_wallpapers.py``: which licence a
file installed by a package is under, and whether that licence lets derived weights be redistributed
(free licences only: ND, NC, non-free and unknown terms are refused)."""

from __future__ import annotations

import re
from dataclasses import dataclass

FREE_LICENCE_RE = re.compile(
    r"^(cc-by|cc-by-sa|cc0|gpl|lgpl|agpl|gfdl|expat|mit|x11|bsd|apache|isc|zlib|libpng|mpl|epl|artistic"
    r"|ofl|sil-ofl|public-domain|publicdomain|cc-pddc|unlicense|wtfpl|lal|free-art|ftl|ijg)([-_. +]|$)",
    re.I,
)
NONFREE_LICENCE_RE = re.compile(
    r"(-nc([-_. +]|$)|-nd([-_. +]|$)|noncommercial|non-commercial|noderiv|no-deriv|non-free|nonfree"
    r"|proprietary|all-rights-reserved|all rights reserved|unknown|unclear|^other$|^custom$)",
    re.I,
)
FREE_FORM = "free-form copyright"  # licence recorded for a package whose copyright file is not DEP-5


def licence_problem(expr: str) -> str | None:
    """Why a DEP-5 licence expression does not allow redistributing derived weights, or None if it does.

    ``A or B`` needs one free alternative, ``A and B`` needs all; ``with ... exception`` is ignored."""
    alternatives = [a.strip() for a in re.split(r"\s+or\s+", expr.strip())]
    problems = []
    for alt in alternatives:
        for term in re.split(r"\s+and\s+|\s*,\s*and\s+", alt):
            term = re.sub(r",?\s+with\s+.*\s+exception$", "", term.strip(), flags=re.I).strip()
            if not term:
                problems.append("empty licence")
            elif NONFREE_LICENCE_RE.search(term):
                problems.append(f"{term} forbids derivatives or commercial use, or is not free")
            elif not FREE_LICENCE_RE.match(term):
                problems.append(f"{term} is not a known free licence")
            else:
                continue
            break
        else:
            return None  # this alternative is free
    return "; ".join(dict.fromkeys(problems)) or "empty licence"


def dep5_regex(pattern: str) -> re.Pattern:
    """A DEP-5 ``Files:`` pattern (``*`` and ``?`` only, ``*`` crosses ``/``) as a regex."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


@dataclass
class Copyright:
    """The ``Files:`` stanzas of a DEP-5 copyright file, in order."""

    stanzas: list[tuple[list[str], str]]  # (patterns, licence expression: first line of License:)

    def licence_of(self, source: str) -> str | None:
        """Licence of a file installed at `source` (path inside the package), or None when no stanza matches."""
        return self.match(source)[0]

    def match(self, source: str) -> tuple[str | None, list[tuple[str, str]]]:
        """Return (licence or None, weak matches [(pattern, licence)]) of a file installed at `source`.

        Patterns name paths in the source tree, not where files are installed, so a pattern matches when it
        matches any tail of the installed path (``desktop/x.png`` matches ``/usr/share/backgrounds/mate/desktop/
        x.png``), or, for a pattern naming one file (``16.04/x.jpg``), when the file names are equal. The last
        matching stanza wins, as DEP-5 says. A pattern whose directory is not in the installed path but whose
        last part matches the file name with wildcards (``art/nd-*.jpg`` for ``.../nd-1.jpg``) may or may not
        mean this file: such weak matches are returned apart, for the caller to be cautious with."""
        parts = source.strip("/").split("/")
        tails = ["/".join(parts[i:]) for i in range(len(parts))]
        found, weak = None, []
        for patterns, licence in self.stanzas:
            for pat in patterns:
                last = pat.rsplit("/", 1)[-1]
                if any(dep5_regex(pat).fullmatch(t) for t in tails) or (
                    "/" in pat and not set("*?") & set(last) and last == parts[-1]
                ):
                    found = licence
                    break
                if "/" in pat and last.strip("*") and dep5_regex(last).fullmatch(parts[-1]):
                    weak.append((pat, licence))
        return found, weak


def parse_copyright(text: str) -> Copyright | None:
    """Parse a machine-readable (DEP-5) debian/copyright; None when the file is free-form."""
    paragraphs: list[dict[str, str]] = []
    for block in re.split(r"\n[ \t]*\n", text.strip()):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key is not None:
                fields[key] += "\n" + line.strip()
            elif (m := re.match(r"^([A-Za-z][A-Za-z0-9-]*):(.*)$", line)) is not None:
                key = m.group(1).lower()
                fields[key] = m.group(2).strip()
            elif line.startswith("#"):
                continue
            else:
                key = None
        if fields:
            paragraphs.append(fields)
    if not paragraphs or not re.search(r"copyright-format|dep-?5", paragraphs[0].get("format", ""), re.I):
        return None
    stanzas = [
        (p["files"].split(), (p.get("license", "").splitlines() or [""])[0].strip())
        for p in paragraphs[1:]
        if "files" in p
    ]
    return Copyright(stanzas)
