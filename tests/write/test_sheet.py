"""Derivation sheets: content of the source, and real PDFs read back with pdftotext."""
import re
import subprocess

import pytest

from derivcheck.core.network import chain, forward, mlp
from derivcheck.write.sheet import layer_steps, network_facts, sheet_source, write_sheet

STEP = r"\operatorname{Step}"


def pdftotext(path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def overfull_boxes(source: str, tmp_path) -> list:
    """Overfull boxes wider than 1pt in pdflatex's log for ``source``."""
    (tmp_path / "doc.tex").write_text(source, encoding="utf-8")
    subprocess.run(["pdflatex", "-no-shell-escape", "-halt-on-error",
                    "-interaction=nonstopmode", "doc.tex"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=300)
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    return [m.group(0) for m in re.finditer(r"Overfull \\[hv]box \((\d+\.\d+)pt too \w+\)[^\n]*",
                                            log) if float(m.group(1)) > 1.0]


def test_two_layer_relu_chain_source():
    src = sheet_source(chain(["w1", "w2"], "relu"))
    # forward pass, weight first as the seed writes it
    assert r"z^{(2)} &= w_{2} a^{(1)}" in src
    assert r"\hat{y} = a^{(2)} &= \operatorname{ReLU}(z^{(2)})" in src
    # the loss derivative
    assert (r"\frac{\partial}{\partial a^{(2)}} \frac{1}{2} \, (y - a^{(2)})^{2}"
            r" = a^{(2)} - y") in src
    # the three steps at layer 2, instantiated and tagged
    assert (r"\frac{\partial C}{\partial z^{(2)}} &= \frac{\partial C}{\partial a^{(2)}}"
            r"\frac{\partial a^{(2)}}{\partial z^{(2)}} = \frac{\partial C}{\partial a^{(2)}}"
            rf" \, {STEP}(z^{{(2)}}) \tag{{1}}") in src
    assert (r"\frac{\partial C}{\partial a^{(1)}} &= \frac{\partial C}{\partial z^{(2)}}"
            r"\frac{\partial z^{(2)}}{\partial a^{(1)}} = \frac{\partial C}{\partial z^{(2)}}"
            r" \, w_{2} \tag{2}") in src
    assert r"= \frac{\partial C}{\partial z^{(2)}} \, a^{(1)} \tag{3}" in src
    # the gradient factored from the loss down, then fully substituted
    assert (rf"\frac{{\partial C}}{{\partial w_{{1}}}} &= (a^{{(2)}} - y) \, {STEP}(z^{{(2)}})"
            rf" \, w_{{2}} \, {STEP}(z^{{(1)}}) \, x") in src
    assert r"(\operatorname{ReLU}(w_{2} \, \operatorname{ReLU}(w_{1} x)) - y)" in src


@pytest.mark.pdf
def test_two_layer_relu_chain_pdf(tmp_path):
    out = write_sheet(chain(["w1", "w2"], "relu"), tmp_path / "sheet.pdf")
    text = pdftotext(out)
    for words in ("Derivation sheet: a 2-layer relu chain", "Forward pass",
                  "The loss derivative", "The three chain-rule steps",
                  "Backpropagation, layer by layer", "Layer 2 (output)", "Layer 1",
                  "Gradients of the parameters", "Kinks", "Dead ReLU units", "Step", "ReLU"):
        assert words in text
    assert "Vanishing gradients" not in text


def test_seed_three_layer_chain_names_layers_the_askers_way():
    net = chain(["w3", "w2", "w1"], "relu")
    src = sheet_source(net)
    assert r"z^{(1)} &= w_{3} x" in src and r"z^{(3)} &= w_{1} a^{(2)}" in src
    assert (rf"\frac{{\partial C}}{{\partial w_{{3}}}} &= (a^{{(3)}} - y) \, {STEP}(z^{{(3)}})"
            rf" \, w_{{1}} \, {STEP}(z^{{(2)}}) \, w_{{2}} \, {STEP}(z^{{(1)}}) \, x") in src
    assert network_facts(net)[4] == ("Parameters", "w_{3}, w_{2}, w_{1}", True)


def test_layer_steps_of_one_layer():
    rows = layer_steps(chain(["w1", "w2", "w3"], "relu", biases=["b1", "b2", "b3"]), 2)
    assert [re.search(r"\\tag\{(\d)\}", r).group(1) for r in rows] == ["1", "2", "3", "3"]
    assert rows[3].startswith(r"\frac{\partial C}{\partial b_{2}} &=")
    assert rows[3].endswith(r"= \frac{\partial C}{\partial z^{(2)}} \tag{3}")


def test_profile_convention_prints_iverson_brackets():
    src = sheet_source(chain(["w1", "w2"], "relu"), convention="torch")
    grads = src.split(r"\section*{Gradients of the parameters}")[1].split(r"\section*")[0]
    assert r"[z^{(1)} > 0]" in grads and STEP not in grads


KINK_ROWS = [
    # activation, breakpoint, Step(0)=0, 1/2, 1, torch, jax, tensorflow
    ("leaky\\_relu(1/100)", "0", r"\frac{1}{100}", r"\frac{101}{200}", "1",
     r"\frac{1}{100}", "1", r"\frac{1}{100}"),
    ("hardtanh", "-1", "0", r"\frac{1}{2}", "1", "0", "1", "1"),
    ("hardtanh", "1", "0", r"\frac{1}{2}", "1", "0", "1", "1"),
    ("abs", "0", "0", "0", "0", "0", "1", "0"),
    ("prelu(alpha)", "0", r"\alpha", r"\frac{1}{2} + \frac{1}{2} \, \alpha", "1", r"\alpha", "1",
     r"\alpha"),
    ("relu", "0", "0", r"\frac{1}{2}", "1", "0", "0", "0"),
]


@pytest.mark.parametrize("row", KINK_ROWS, ids=lambda r: f"{r[0]}@{r[1]}")
def test_kink_table(row):
    net = chain(["w1", "w2", "w3", "w4", "w5"],
                ["leaky_relu(0.01)", "hardtanh", "abs", "prelu(alpha)", "relu"])
    src = sheet_source(net)
    label, at, *cells = row
    expected = rf"\texttt{{{label}}} & ${at}$" + "\n" + "".join(f" & ${c}$" for c in cells)
    assert expected in src


@pytest.mark.pdf
def test_mixed_activations_compile(tmp_path):
    net = chain(["w1", "w2", "w3", "w4"], ["leaky_relu(0.01)", "tanh", "hardtanh", "elu"],
                biases=["b1", "b2", "b3", "b4"], loss="squared")
    text = pdftotext(write_sheet(net, tmp_path / "mixed.pdf"))
    assert "LeakyReLU" in text and "HardTanh" in text and "tanh" in text
    assert "Vanishing gradients" in text and "Dead ReLU units" not in text


def test_sigmoid_chain_has_the_vanishing_gradient_bound():
    src = sheet_source(chain(["w1", "w2", "w3", "w4"], "sigmoid"))
    rows = re.findall(r"^\$(\d)\$ & \$(\d)\$ & \$0\$ & \$(.*)\$ \\\\$", src, re.M)
    assert rows == [("4", "1", "(1/4)^{1} = 1/4"), ("3", "2", "(1/4)^{2} = 1/16"),
                    ("2", "3", "(1/4)^{3} = 1/64"), ("1", "4", "(1/4)^{4} = 1/256")]
    assert r"\begin{semilogyaxis}" in src
    assert "(4,3.906250e-03)" in src  # (1/4)^4 on the curve and marked
    assert r"\sigma(z^{(4)}) \, (1 - \sigma(z^{(4)}))" in src
    assert "Dead ReLU units" not in src


@pytest.mark.pdf
def test_sigmoid_chain_pdf(tmp_path):
    text = pdftotext(write_sheet(chain(["w1", "w2", "w3", "w4"], "sigmoid"),
                                 tmp_path / "sigmoid.pdf"))
    assert "Vanishing gradients" in text and "this network’s layers" in text
    assert "Kinks" not in text


def test_dead_units_table():
    src = sheet_source(chain(["w1", "w2", "w3"], "relu", biases=["b1", "b2", "b3"]))
    dead = src.split(r"\section*{Dead ReLU units}")[1]
    rows = re.findall(r"^(.*) & \$(.*)\$ & \$(.*)\$ \\\\$", dead, re.M)
    none, layer1, layer2, layer3 = rows
    assert none[1:] == (r"\text{none}", r"w_{1}, b_{1}, w_{2}, b_{2}, w_{3}, b_{3}")
    assert layer2[0] == r"layer 2 ($w_{2} = -1$) & $-1$"
    # w1, b1 (below) and w2, b2, w3 (a2 = 0 feeds them) vanish; b3 sees Step(0) = c
    assert layer2[1:] == (r"w_{1}, b_{1}, w_{2}, b_{2}, w_{3}", "b_{3}")
    assert layer3[2] == r"\text{none}"


def test_mlp_sheet_sums_over_units():
    src = sheet_source(mlp([2, 3, 1], ["relu", "identity"]))
    assert r"\sum_{j}" in src
    assert (r"\frac{\partial C}{\partial a^{(1)}_{2}} &= \frac{\partial C}{\partial z^{(2)}_{1}}"
            r"\frac{\partial z^{(2)}_{1}}{\partial a^{(1)}_{2}} = "
            r"\frac{\partial C}{\partial z^{(2)}_{1}} \, W^{(1)}_{21} \tag{2}") in src
    assert r"\hat{y} = a^{(2)}_{1} &= z^{(2)}_{1}" in src
    # the fully substituted form of a first-layer weight is printed, across lines
    grads = src.split(r"\section*{Gradients of the parameters}")[1].split(r"\section*")[0]
    assert "too many to print" not in grads
    assert grads.count(r"\frac{\partial C}{\partial W^{(0)}_{11}} &=") == 1
    assert r"&\quad + W^{(1)}_{21} \, \operatorname{ReLU}(" in grads


@pytest.mark.pdf
def test_mlp_pdf(tmp_path):
    text = pdftotext(write_sheet(mlp([2, 3, 1], ["relu", "identity"]), tmp_path / "mlp.pdf"))
    assert "an MLP with widths 2-3-1" in text and "Layer 2 (output)" in text


@pytest.mark.pdf
def test_deep_chain_is_summarised_and_fits_the_page(tmp_path):
    net = chain([f"w{i}" for i in range(1, 51)], "relu")
    src = sheet_source(net)
    assert "Layers 4 to 47 repeat the same three steps." in src
    assert r"\subsection*{Layer 50 (output)}" in src and r"\subsection*{Layer 47}" not in src
    assert "too many to" in src
    assert src.count(r"&\quad \cdot") > 30  # long products broken across lines
    assert overfull_boxes(src, tmp_path) == []
    text = pdftotext(write_sheet(net, tmp_path / "deep.pdf"))
    assert "Layer 48" in text and "Layer 3" in text and "Layer 25" not in text


@pytest.mark.pdf
@pytest.mark.parametrize("net", [
    chain(["w3", "w2", "w1"], "relu"),
    chain(["w1", "w2", "w3", "w4"], "sigmoid"),
    mlp([2, 3, 1], ["relu", "identity"]),
    chain([f"W{k}" for k in range(12)], "sigmoid", loss="bce"),
], ids=["seed-relu3", "sigmoid4", "mlp231", "sigmoid12-bce"])
def test_no_overfull_lines(net, tmp_path):
    assert overfull_boxes(sheet_source(net), tmp_path) == []


def test_write_sheet_tex(tmp_path):
    out = write_sheet(chain(["w1"]), tmp_path / "s.tex")
    assert out.read_text().startswith(r"\documentclass")


def test_assumptions_are_listed_as_escaped_text():
    src = sheet_source(chain(["w1"]), assume=["x > 0", r"\input{/etc/passwd}"])
    assert (r"Assumptions & \texttt{x \textgreater{} 0,\allowbreak{} "
            r"\textbackslash{}input\{/\allowbreak{}etc/\allowbreak{}passwd\}} \\") in src


@pytest.mark.pdf
def test_explicit_forward_equations(tmp_path):
    net = forward(["z1 = w1*x + b1", "h = relu(z1)", "yhat = w2*h + b2"])
    src = sheet_source(net)
    assert r"z^{(1)} &= w_{1} x + b_{1}" in src
    assert r"\sum_{v \text{ uses } u}" in src
    assert (r"\frac{\partial C}{\partial z^{(1)}} &= \frac{\partial C}{\partial h}"
            r"\frac{\partial h}{\partial z^{(1)}} = \frac{\partial C}{\partial h} \, "
            r"\operatorname{Step}(z^{(1)})") in src
    text = pdftotext(write_sheet(net, tmp_path / "forward.pdf"))
    assert "explicit forward equations" in text and "All quantities, from the loss down" in text


def test_very_deep_chain_source():
    src = sheet_source(chain([f"w{i}" for i in range(1, 301)], "relu"))
    assert "Layers 4 to 297 repeat the same three steps." in src
    assert "more than the limit" in src and "too many to print usefully" in src
