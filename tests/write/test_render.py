"""The Jinja environment for LaTeX, escaping of user text, and where templates live."""
import re
import sys
from pathlib import Path

import jinja2
import pytest

import derivcheck
from derivcheck.write import render as render_mod
from derivcheck.write.render import environment, render, templates_root, tex_code, tex_escape

TOP = Path(__file__).resolve().parents[2] / "templates"


def test_delimiters_leave_latex_braces_alone():
    env = environment()
    src = r"\section{\VAR{t}}\BLOCK{for i in xs}\item{\VAR{i}}\BLOCK{endfor}\#{ gone }"
    assert env.from_string(src).render(t="T", xs=[1, 2]) == r"\section{T}\item{1}\item{2}"


def test_line_statements_and_comments():
    src = "%% for i in xs\n\\VAR{i};\n%% endfor\n%# a template comment\ndone\n"
    assert environment().from_string(src).render(xs=[1, 2]) == "1;\n2;\n\ndone\n"


def test_undefined_names_are_errors():
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string(r"\VAR{missing}").render()


def test_nothing_is_escaped_automatically():
    tex = r"\frac{\partial C}{\partial w_{1}}"
    assert environment().from_string(r"$\VAR{m}$").render(m=tex) == f"${tex}$"


ESCAPES = [
    ("plain text", "plain text"),
    ("50%", r"50\%"),
    ("$x$", r"\$x\$"),
    ("a_1^2", r"a\_1\textasciicircum{}2"),
    ("{}", r"\{\}"),
    ("#&~", r"\#\&\textasciitilde{}"),
    ("\\", r"\textbackslash{}"),
    ("a<b>c|d", r"a\textless{}b\textgreater{}c\textbar{}d"),
    ("line\nbreak", "line break"),
    ("σ(z)", r"\ensuremath{\sigma}(z)"),
    ("Δ", r"\ensuremath{\Delta}"),
    ("ŷ", r"\^{y}"),
    ("é", r"\'{e}"),
    ("x·y", r"x\ensuremath{\cdot}y"),
    ("≥", r"\ensuremath{\geq}"),
    ("☃", "[U+2603]"),
    ("\x00", "[U+0000]"),
]


@pytest.mark.parametrize("text, expected", ESCAPES)
def test_tex_escape(text, expected):
    assert tex_escape(text) == expected


@pytest.mark.parametrize("hostile", [
    r"\input{/etc/passwd}", r"\write18{rm -rf /}", r"\catcode`\^=12", r"\openout5=x",
    r"\immediate\write18{ls}", r"\def\x{y}\x", "%", "}", r"\end{document}",
])
def test_escaped_text_holds_no_command_and_balanced_braces(hostile):
    for out in (tex_escape(hostile), tex_code(hostile)):
        commands = set(re.findall(r"\\([A-Za-z]+)", out))
        assert commands <= {"textbackslash", "textasciicircum", "textasciitilde",
                            "textasciigrave", "textquotesingle", "texttt", "allowbreak"}
        assert not re.search(r"(?<!\\)%", out)
        assert out.count(r"\{") == hostile.count("{")
        depth = 0
        for m in re.finditer(r"\\.|[{}]", out):
            depth += {"{": 1, "}": -1}.get(m.group(), 0)
            assert depth >= 0
        assert depth == 0


def test_tex_code_allows_breaks_after_operators():
    assert tex_code("a+b") == r"\texttt{a+\allowbreak{}b}"
    assert tex_code("f`x'") == r"\texttt{f\textasciigrave{}x\textquotesingle{}}"


def test_templates_resolve_in_a_source_checkout():
    root = templates_root()
    assert (root / "sheet.tex").is_file() and (root / "report.tex").is_file()
    assert Path(str(root / "base.tex")).resolve() == (TOP / "base.tex").resolve()


def test_templates_fall_back_to_the_checkout_folder(monkeypatch):
    monkeypatch.setitem(sys.modules, "derivcheck.templates", None)  # import fails
    assert templates_root() == TOP
    assert "\\begin{document}" in render("base.tex", title="x")


def test_templates_resolve_as_installed_package_data(tmp_path, monkeypatch):
    """Installed, the templates are package data in derivcheck/templates/ (no __init__)."""
    installed = tmp_path / "site" / "derivcheck" / "templates"
    installed.mkdir(parents=True)
    (installed / "base.tex").write_text(r"installed \VAR{title}", encoding="utf-8")
    monkeypatch.delitem(sys.modules, "derivcheck.templates", raising=False)
    monkeypatch.delattr(derivcheck, "templates", raising=False)
    monkeypatch.setattr(derivcheck, "__path__", [str(installed.parent)])
    try:
        root = templates_root()
        assert Path(str(root.joinpath("base.tex"))).parent == installed
        assert render_mod.render("base.tex", title="T") == "installed T"
    finally:  # forget the stand-in package so later tests find the real templates
        sys.modules.pop("derivcheck.templates", None)
        vars(derivcheck).pop("templates", None)
