"""pdflatex: real compiles, readable failures, and the safety settings."""
import subprocess

import pytest

from derivcheck.write import pdf
from derivcheck.errors import PdfError
from derivcheck.write.pdf import compile_pdf, log_excerpt, write_tex_or_pdf

DOC = r"""\documentclass{article}
\begin{document}
%s
\end{document}
"""


def pdftotext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


@pytest.mark.pdf
def test_compiles_a_real_pdf(tmp_path):
    out = compile_pdf(DOC % r"Hello $\frac{\partial C}{\partial w}$", tmp_path / "sub" / "a.pdf")
    assert out == tmp_path / "sub" / "a.pdf"
    assert out.read_bytes().startswith(b"%PDF-")
    assert "Hello" in pdftotext(out)


@pytest.mark.pdf
def test_reruns_when_references_change(tmp_path):
    src = DOC % r"\section{A}\label{a} see section~\ref{a}"
    assert "see section 1" in pdftotext(compile_pdf(src, tmp_path / "r.pdf"))


@pytest.mark.pdf
def test_failure_shows_only_the_relevant_log_lines(tmp_path):
    with pytest.raises(PdfError) as info:
        compile_pdf(DOC % "fine\n\\undefinedcommand here", tmp_path / "bad.pdf")
    message = info.value.message
    assert "! Undefined control sequence." in message
    assert "l.4 \\undefinedcommand" in message
    assert "This is pdfTeX" not in message and "article.cls" not in message
    assert len(message.splitlines()) < 10
    assert not (tmp_path / "bad.pdf").exists()


@pytest.mark.pdf
def test_files_outside_the_work_folder_cannot_be_read(tmp_path):
    with pytest.raises(PdfError, match="passwd"):
        compile_pdf(DOC % r"\input{/etc/passwd}", tmp_path / "x.pdf")


@pytest.mark.pdf
def test_shell_escape_is_off(tmp_path):
    marker = tmp_path / "pwned"
    src = DOC % rf"\immediate\write18{{touch {marker}}} done"
    assert "done" in pdftotext(compile_pdf(src, tmp_path / "s.pdf"))
    assert not marker.exists()


@pytest.mark.pdf
def test_a_run_that_never_ends_is_stopped(tmp_path):
    with pytest.raises(PdfError, match="longer than 2 s"):
        compile_pdf(DOC % r"\def\x{\x}\x", tmp_path / "loop.pdf", timeout=2)


def test_missing_pdflatex_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    with pytest.raises(PdfError) as info:
        compile_pdf(DOC % "x", tmp_path / "a.pdf")
    text = info.value.render()
    assert "pdflatex was not found" in text
    assert "apt-get install texlive-latex-recommended texlive-pictures" in text
    assert ".tex" in text


@pytest.mark.pdf
def test_write_tex_or_pdf_chooses_by_suffix(tmp_path):
    src = DOC % "suffix"
    assert write_tex_or_pdf(src, tmp_path / "a.tex").read_text() == src
    assert write_tex_or_pdf(src, tmp_path / "a.PDF").read_bytes().startswith(b"%PDF-")
    with pytest.raises(PdfError, match="ending in .tex or .pdf"):
        write_tex_or_pdf(src, tmp_path / "a.txt")


EXCERPTS = [
    ("no errors\nat all\n", "no errors\nat all"),
    ("x\n! Missing $ inserted.\n<inserted text>\n$\nl.7 a_\n    b\n\nmore\n",
     "! Missing $ inserted.\n<inserted text>\n$\nl.7 a_\n    b"),
    ("! First.\nl.1 a\n! Second.\nl.2 b\n", "! First.\nl.1 a\n! Second.\nl.2 b"),
]


@pytest.mark.parametrize("log, expected", EXCERPTS)
def test_log_excerpt(log, expected):
    assert log_excerpt(log) == expected
