"""The page in a real browser: Debian's chromium driven by playwright.

Screenshots land in ``$DERIVCHECK_SCREENSHOTS`` (default: pytest's temporary directory).
"""
import os
import shutil
import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from .live import live_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SEED = r"\frac{\partial C}{\partial W^{(0)}} = (ReLU(W^{(0)}x) - y)x"


@pytest.fixture(scope="module")
def server():
    with live_server(jobs=2, timeout=10) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    assert os.path.exists(CHROMIUM), "install Debian's chromium: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("DERIVCHECK_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser, width, url):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    return page, errors


def verdict(page, text):
    expect(page.locator("#verdict")).to_have_text(text, timeout=30_000)


def test_type_a_formula_and_check_with_the_keyboard(server, browser, shots):
    page, errors = open_page(browser, 1000, server + "/")
    page.fill("#weights", "w1")
    page.fill("#act", "relu")
    page.fill("#wrt", "w1")
    page.focus("#candidate")
    page.keyboard.type("(y - relu(w1*x))*x")
    # the live preview reads the formula as the checker will
    expect(page.locator("#preview-math .katex")).to_be_visible(timeout=20_000)
    expect(page.locator("#preview-status")).to_contain_text("read as plain text")
    page.keyboard.press("Control+Enter")
    verdict(page, "Not the gradient")
    # both formulas typeset by KaTeX, the counterexample and the diagnosis
    assert page.locator("#tex-candidate .katex").count() == 1
    assert page.locator("#tex-gradient .katex").count() == 1
    assert "Step" in page.inner_text("#tex-gradient")
    rows = page.locator("#counterexample tbody tr")
    assert rows.count() == 5  # x, w1, y, your formula, the gradient
    assert "sign flip" in page.inner_text("#diagnosis")
    # the address now holds the check, with the CLI's names
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query["weights"] == ["w1"] and query["candidate"] == ["(y - relu(w1*x))*x"]
    assert query["wrt"] == ["w1"] and query["act"] == ["relu"]
    page.screenshot(path=str(shots / "check-1000.png"), full_page=True)
    assert errors == []


@pytest.mark.parametrize("width", [1000, 400])
def test_a_shared_link_runs_the_check(server, browser, shots, width):
    query = urllib.parse.urlencode({"weights": "W0", "act": "relu", "candidate": SEED})
    page, errors = open_page(browser, width, f"{server}/?{query}")
    verdict(page, "Not the gradient")
    assert page.input_value("#candidate") == SEED
    assert "W^{(0)} as W0" in page.inner_text("#readings")
    assert "missing gate" in page.inner_text("#diagnosis")
    katex_spans = page.locator("#result .katex")
    assert katex_spans.count() >= 2
    # nothing wider than the window: the page reads at 400 px without sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(shots / f"seed-{width}.png"), full_page=True)
    assert errors == []


def test_equations_and_a_correct_formula(server, browser, shots):
    params = [("forward", "z1 = w1*x + b1"), ("forward", "h = relu(z1)"),
              ("forward", "yhat = w2*h"), ("wrt", "w2"),
              ("candidate", "(yhat - y)*h"), ("kink-convention", "torch")]
    page, errors = open_page(browser, 1000, f"{server}/?{urllib.parse.urlencode(params)}")
    verdict(page, "Correct")
    assert page.is_checked('input[name="kind"][value="equations"]')
    assert page.input_value("#forward").splitlines() == [v for k, v in params[:3]]
    assert page.input_value("#kink-convention") == "torch"
    assert errors == []


def test_bad_input_shows_the_caret_and_selects_the_spot(server, browser, shots):
    query = urllib.parse.urlencode({"weights": "w1", "act": "relu", "wrt": "w1",
                                    "candidate": "x*(relu(w1*x)-y))"})
    page, errors = open_page(browser, 400, f"{server}/?{query}")
    verdict(page, "Your input could not be read")
    text = page.inner_text("#error-text").splitlines()
    assert text[1:3] == ["  x*(relu(w1*x)-y))", "                  ^"]
    assert page.evaluate("document.activeElement.id") == "candidate"
    assert page.evaluate("document.activeElement.selectionStart") == 16
    page.screenshot(path=str(shots / "error-400.png"), full_page=True)
    assert errors == []


def test_back_button_restores_the_earlier_check(server, browser):
    query = urllib.parse.urlencode({"weights": "w1", "act": "relu", "wrt": "w1",
                                    "candidate": "(relu(w1*x) - y)*step(w1*x)*x"})
    page, _ = open_page(browser, 1000, f"{server}/?{query}")
    verdict(page, "Correct")
    page.fill("#candidate", "(relu(w1*x) - y)*x")
    page.click("#check")
    verdict(page, "Not the gradient")
    page.go_back()
    verdict(page, "Correct")
    assert page.input_value("#candidate") == "(relu(w1*x) - y)*step(w1*x)*x"


@pytest.mark.pdf
def test_download_the_sheet(server, browser):
    query = urllib.parse.urlencode({"weights": "w1,w2", "act": "relu", "wrt": "w1",
                                    "candidate": "x"})
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{server}/?{query}")
    verdict(page, "Not the gradient")
    with page.expect_download(timeout=60_000) as info:
        page.click("#download-sheet")
    path = info.value.path()
    assert info.value.suggested_filename == "sheet.pdf"
    assert Path(path).read_bytes().startswith(b"%PDF-")


def test_a_long_gradient_scrolls_in_its_box_not_the_page(server, browser, shots):
    weights = ",".join(f"w{k}" for k in range(1, 15))
    query = urllib.parse.urlencode({"weights": weights, "act": "sigmoid", "wrt": "w1",
                                    "candidate": "dC/dz2*w2*sigmoid(z1)*x"})
    page, errors = open_page(browser, 400, f"{server}/?{query}")
    verdict(page, "Not the gradient")
    assert page.locator("#tex-definitions .katex").count() == 1  # the definitions it uses
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    box = page.locator("#tex-gradient")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")  # it scrolls sideways
    page.screenshot(path=str(shots / "deep-400.png"), full_page=True)
    assert errors == []


def tab_to(page, element_id: str, limit: int = 40) -> int:
    """Press Tab until ``element_id`` has the focus; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return presses
    raise AssertionError(f"Tab never reached #{element_id}")


def test_keyboard_alone(server, browser):
    page, errors = open_page(browser, 1000, server + "/?weights=w1&act=relu")
    tab_to(page, "wrt")
    page.keyboard.type("w1")
    tab_to(page, "candidate")
    page.keyboard.type("(relu(w1*x) - y)*step(w1*x)*x")
    tab_to(page, "check")
    page.keyboard.press("Enter")
    verdict(page, "Correct")
    # the result takes the focus, so a screen reader reads the verdict next
    assert page.evaluate("document.activeElement.id") == "result"
    tab_to(page, "download-report")
    assert errors == []


# -- matrices and batches (issue 15), losses and names of one's own (issue 16) ---------------

NG_WRONG = r"dW^{[1]} = dZ^{[1]} X^T"          # deeplearning.ai's dW1 without the 1/m
NG_MISMATCH = r"dW^{[1]} = \frac{1}{m} dZ^{[1]} X"   # X where X^T belongs


def query_of(page) -> list:
    return urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query, keep_blank_values=True)


def annotations(page, where: str) -> list:
    """The LaTeX sources KaTeX set in ``where`` (its MathML keeps them)."""
    return [a.text_content() for a in page.locator(f"{where} annotation").all()]


def test_fill_the_matrix_fields_and_check(server, browser, shots):
    page, errors = open_page(browser, 1000, server + "/")
    assert not page.is_visible("#matrices")        # the scalar form stays simple
    page.check('input[name="kind"][value="mlp"]')
    assert page.is_visible("#batch") and not page.is_visible("#shape")
    page.fill("#widths", "3,4,1")
    page.fill("#act", "tanh,sigmoid")
    page.select_option("#loss", "bce")
    page.fill("#batch", "m")
    page.select_option("#style", "ng")
    page.fill("#candidate", NG_WRONG)
    page.screenshot(path=str(shots / "matrix-form-1000.png"), full_page=True)
    page.click("#check")
    verdict(page, "Not the gradient")
    # the formulas in deeplearning.ai's notation
    assert annotations(page, "#tex-candidate") == [r"dW^{[1]} = dZ^{[1]} X^{\top}"]
    assert annotations(page, "#tex-gradient")[0].startswith(
        r"dW^{[1]} = \frac{\partial J}{\partial Z^{[1]}}")
    # the counterexample: its size, the entry, both values, and the matrices as matrices
    assert "m = 2" in annotations(page, "#witness-where")[0]
    assert "the entry that differs: dW1[1,1]" in page.inner_text("#witness-where")
    assert annotations(page, "#witness-values") == [r"\frac{1}{4}", r"\frac{1}{8}"]
    shown = annotations(page, "#witness-matrices")
    assert [s.split(" = ")[0] for s in shown] == ["X", "Y", "W^{[1]}", "W^{[2]}"]
    assert all(r"\begin{bmatrix}" in s for s in shown)
    assert page.locator("#witness-matrices .katex-html").count() == 4
    assert page.locator("#counterexample tr").count() == 0   # no entry list beside them
    # the diagnosis, the readings with the style assumed, the method
    assert "missing batch mean: The batch mean is wrong" in page.inner_text("#diagnosis")
    assert "style ng: deeplearning.ai" in page.inner_text("#readings")
    assert page.inner_text("#method").startswith("decided by: identity test")
    assert query_of(page) == [("widths", "3,4,1"), ("act", "tanh,sigmoid"), ("loss", "bce"),
                              ("batch", "m"), ("style", "ng"), ("candidate", NG_WRONG)]
    page.locator("#result").screenshot(path=str(shots / "matrix-result-1000.png"))
    assert errors == []


@pytest.mark.parametrize("width", [1000, 400])
def test_a_shape_mismatch_says_so_and_wide_matrices_scroll(server, browser, shots, width):
    params = [("widths", "3,4,1"), ("act", "tanh,sigmoid"), ("loss", "bce"), ("batch", "m"),
              ("style", "ng"), ("candidate", NG_MISMATCH)]
    page, errors = open_page(browser, width, f"{server}/?{urllib.parse.urlencode(params)}")
    verdict(page, "Not the gradient")
    assert annotations(page, "#tex-candidate") == [r"dW^{[1]} = \frac{1}{m} dZ^{[1]} X"]
    assert "the shapes differ: dW1" in page.inner_text("#witness-where")
    assert "a 4 x m matrix times a 3 x m matrix does not fit" in page.inner_text(
        "#witness-values dd.sentence")
    expected = annotations(page, "#witness-values")   # the gradient's value: a 4 x 3 matrix
    assert len(expected) == 1 and expected[0].startswith(r"\approx \begin{bmatrix}")
    assert "missing transpose" in page.inner_text("#diagnosis")
    assert "shapes compared symbolically" in page.inner_text("#method")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width == 400:   # the 4 x 3 matrix of decimals is wider than the window: it scrolls
        box = page.locator("#witness-values dd.math")
        assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    page.screenshot(path=str(shots / f"shape-mismatch-{width}.png"), full_page=True)
    assert errors == []


def test_index_notation_for_every_layer(server, browser):
    text = r"\delta^l_j = \sum_k w^{l+1}_{kj} \delta^{l+1}_k \sigma'(z^l_j)"
    params = [("widths", "n1,n2,n3,n4"), ("act", "sigmoid"), ("bias", "1"),
              ("style", "nielsen"), ("candidate", text)]
    page, errors = open_page(browser, 1000, f"{server}/?{urllib.parse.urlencode(params)}")
    verdict(page, "Correct")
    assert page.is_checked("#bias")
    # the preview reads it for the first layer there is, and says so
    expect(page.locator("#preview-status")).to_contain_text("shown for l = 2", timeout=20_000)
    assert "read l as every layer: l = 2, 3" in page.inner_text("#readings")
    assert annotations(page, "#tex-candidate")[0].startswith(r"\delta^{2} = ")
    assert errors == []


# Every new field, through the address and back: opened from a link, checked (the verdict
# depends on each field reaching the API), and written back into the address unchanged.
ROUND_TRIPS = {
    "matrix equations": ([
        ("forward", "H = np.maximum(0, X @ W1 + b1)"), ("forward", "scores = H @ W2 + b2"),
        ("loss", "cross_entropy"), ("reduce", "sum"), ("labels", "1"), ("candidate", "dW2 = H.T @ (P - Y)"),
        ("shape", "X=N,D"), ("shape", "W1=D,H_"), ("shape", "W2=H_,C")], "Correct"),
    "own names and upstream": ([
        ("weights", "w1"), ("act", "sigmoid"), ("wrt", "w1"), ("candidate", "dA*d(z1)*x"),
        ("define", "s(z) = sigmoid(z)"), ("define", "d(z) = s(z)*(1 - s(z))"),
        ("upstream", "dA")], "Correct"),
    "l1 loss": ([("weights", "w1"), ("act", "relu"), ("loss", "l1"), ("wrt", "w1"),
                 ("candidate", "relu_grad(z1)*x"), ("assume", "yhat > y")], "Correct"),
    "none": ([("weights", "w1"), ("act", "relu"), ("loss", "none"), ("wrt", "w1"),
              ("candidate", "step(z1)*x")], "Correct"),
    "upstream by its default name": ([("weights", "w1"), ("act", "relu"), ("wrt", "w1"),
                                      ("candidate", "dyhat*step(z1)*x"), ("upstream", "")],
                                     "Correct"),
}


@pytest.mark.parametrize("case", list(ROUND_TRIPS))
def test_the_address_round_trip_of_the_new_fields(server, browser, case):
    params, expected = ROUND_TRIPS[case]
    page, errors = open_page(browser, 1000, f"{server}/?{urllib.parse.urlencode(params)}")
    verdict(page, expected)
    page.click("#check")                  # the address is written from the form again
    verdict(page, expected)
    order = lambda pairs: sorted(pairs)  # noqa: E731  (the form's order is its own)
    assert order(query_of(page)) == order(params)
    assert errors == []


def test_the_fields_of_another_kind_stay_out_of_the_check(server, browser):
    """Switching from MLP to chain drops the matrix fields from the address and the
    request (a chain has no batch), and the upstream box replaces the loss."""
    params = [("widths", "3,4,1"), ("batch", "m"), ("style", "ng"), ("loss", "bce"),
              ("candidate", "dW1 = 1/m * dZ1 @ X.T")]
    page, errors = open_page(browser, 1000, f"{server}/?{urllib.parse.urlencode(params)}")
    verdict(page, "Correct")
    page.check('input[name="kind"][value="chain"]')
    page.fill("#weights", "w1")
    page.fill("#act", "relu")
    page.fill("#wrt", "w1")
    page.click("#advanced summary")
    page.check("#upstream-on")
    assert page.is_disabled("#loss")
    page.fill("#candidate", "dyhat*step(w1*x)*x")
    page.click("#check")
    verdict(page, "Correct")
    assert dict(query_of(page)) == {"weights": "w1", "act": "relu", "wrt": "w1",
                                    "candidate": "dyhat*step(w1*x)*x", "upstream": ""}
    assert errors == []


def test_keyboard_reaches_the_new_fields(server, browser):
    page, errors = open_page(browser, 1000, server + "/?weights=w1&act=sigmoid")
    tab_to(page, "loss")
    page.keyboard.press("Tab")     # the advanced part opens from the keyboard
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    tab_to(page, "define")
    page.keyboard.type("d(z) = sigmoid(z)*(1 - sigmoid(z))")
    tab_to(page, "upstream-on")
    page.keyboard.press("Space")
    tab_to(page, "upstream")
    page.keyboard.type("dA")
    tab_to(page, "wrt")
    page.keyboard.type("w1")
    tab_to(page, "candidate")
    page.keyboard.type("dA*d(z1)*x")
    page.keyboard.press("Control+Enter")
    verdict(page, "Correct")
    assert ("upstream", "dA") in query_of(page)
    assert errors == []
