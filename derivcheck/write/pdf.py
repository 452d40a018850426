"""Turning LaTeX into PDF with pdflatex, safely and with readable errors.

pdflatex runs in a fresh temporary directory with ``-no-shell-escape`` and kpathsea's
paranoid file access (no reading or writing outside that directory except TeX's own
files), and is stopped after a timeout. When it fails, the error says only what the log
says went wrong: each ``!`` line and its ``l.NN`` context.

>>> log = "This is pdfTeX\\n! Undefined control sequence.\\nl.3 \\\\foo\\n\\n..."
>>> print(log_excerpt(log))
! Undefined control sequence.
l.3 \\foo
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import PdfError
from .files import write_atomic

__all__ = ["compile_pdf", "write_tex_or_pdf", "log_excerpt", "clean_stale", "TIMEOUT",
           "STALE"]

#: Seconds one pdflatex run may take.
TIMEOUT = 120
#: Age in seconds past which a ``derivcheck-tex-*`` working folder is a killed run's
#: leftover (a live one is at most two pdflatex runs old).
STALE = 4 * TIMEOUT
_PREFIX = "derivcheck-tex-"
_INSTALL = ("install TeX Live, e.g. `apt-get install texlive-latex-recommended "
            "texlive-pictures`; or ask for a .tex file instead, which needs no TeX")
_RERUN = ("Rerun to get", "Label(s) may have changed")


def log_excerpt(log: str, tail: int = 15) -> str:
    """The lines of a TeX log that explain a failure: each error line (starting with
    ``!``) up to its ``l.NN`` line and the one after; the last ``tail`` lines if the
    log names no error."""
    lines = log.splitlines()
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith("!"):
            j = i
            while j < len(lines) and j < i + 12 and not lines[j].startswith("l."):
                j += 1
            out += [line for line in lines[i: j + 1] if line.strip()]
            if j + 1 < len(lines) and lines[j + 1].strip() and not lines[j + 1].startswith("!"):
                out.append(lines[j + 1])
            i = j + 1
        else:
            i += 1
    return "\n".join(out if out else lines[-tail:])


def clean_stale(folder=None, *, age: float = STALE) -> int:
    """Remove ``derivcheck-tex-*`` folders older than ``age`` seconds from ``folder``
    (the temporary directory); returns how many were removed.

    >>> import tempfile, os, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "derivcheck-tex-old").mkdir(); os.utime(d / "derivcheck-tex-old", (0, 0))
    >>> (d / "derivcheck-tex-new").mkdir()
    >>> clean_stale(d), sorted(p.name for p in d.iterdir())
    (1, ['derivcheck-tex-new'])
    """
    folder = Path(folder or tempfile.gettempdir())
    removed, now = 0, time.time()
    try:
        entries = list(folder.glob(_PREFIX + "*"))
    except OSError:
        return 0
    for entry in entries:
        try:
            st = entry.lstat()
            if (entry.is_dir() and not entry.is_symlink() and now - st.st_mtime > age
                    and st.st_uid == os.getuid()):
                shutil.rmtree(entry)
                removed += 1
        except OSError:
            continue
    return removed


def compile_pdf(tex_source: str, out_path, *, timeout: float = TIMEOUT) -> Path:
    """Compile ``tex_source`` with pdflatex (twice when the log asks for a rerun) and
    write the PDF to ``out_path``; returns its path. Raises :class:`PdfError`.

    >>> src = r"\\documentclass{article}\\begin{document}Hi\\end{document}"
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     compile_pdf(src, pathlib.Path(d) / "hi.pdf").read_bytes()[:5]
    b'%PDF-'
    """
    exe = shutil.which("pdflatex")
    if exe is None:
        raise PdfError("pdflatex was not found, so no PDF can be made", hint=_INSTALL)
    out_path = Path(out_path)
    env = {**os.environ, "openin_any": "p", "openout_any": "p", "shell_escape": "f"}
    clean_stale()
    with tempfile.TemporaryDirectory(prefix=_PREFIX) as tmp:
        work = Path(tmp)
        (work / "doc.tex").write_text(tex_source, encoding="utf-8")
        for _ in range(2):
            try:
                proc = subprocess.run(
                    [exe, "-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode",
                     "doc.tex"], cwd=work, env=env, stdin=subprocess.DEVNULL,
                    capture_output=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise PdfError(f"pdflatex took longer than {timeout:g} s and was stopped",
                               hint="write a .tex file instead and compile it yourself")
            log_file = work / "doc.log"
            log = (log_file.read_bytes() if log_file.exists() else proc.stdout)
            log = log.decode("utf-8", errors="replace")
            if proc.returncode != 0 or not (work / "doc.pdf").exists():
                raise PdfError("pdflatex failed:\n" + log_excerpt(log),
                               hint="the .tex output shows the full document")
            if not any(marker in log for marker in _RERUN):
                break
        write_atomic(out_path, (work / "doc.pdf").read_bytes())
    return out_path


def write_tex_or_pdf(source: str, path) -> Path:
    """Write ``source`` to ``path``: as it is for ``.tex``, compiled for ``.pdf``.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_tex_or_pdf("% empty", pathlib.Path(d) / "a.tex").read_text()
    '% empty'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return compile_pdf(source, path)
    if suffix == ".tex":
        return write_atomic(path, source)
    raise PdfError(f"cannot tell what to write from the name {path.name!r}",
                   hint="give a file name ending in .tex or .pdf")
