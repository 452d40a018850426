"""The HTTP API in-process (Starlette's test client, real worker processes)."""
import json

import re

import pytest
from starlette.testclient import TestClient

from derivcheck.app.batch import grade_item
from derivcheck.serve.app import MAX_REQUEST_BYTES, create_app

CHAIN = {"weights": ["w1", "w2"], "activations": "relu"}
RIGHT = "(relu(w2*relu(w1*x)) - y)*step(w2*relu(w1*x))*w2*step(w1*x)*x"
WRONG = "(y - relu(w2*relu(w1*x)))*w2*x"
CONTRACT_KEYS = {"verdict", "wrt", "candidate", "gradient", "counterexample", "kink_point",
                 "diagnosis", "method", "kink_convention", "assumptions"}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(jobs=2, timeout=2.0)) as c:
        yield c


def item(candidate=RIGHT, **extra):
    return {"network": CHAIN, "wrt": "w1", "candidate": candidate, **extra}


def test_check_answers_what_batch_answers(client):
    for candidate in (RIGHT, WRONG):
        response = client.post("/api/check", json=item(candidate))
        assert response.status_code == 200
        body = response.json()
        assert CONTRACT_KEYS <= set(body) and "tex" not in body
        assert body == grade_item(item(candidate), timeout=2.0)


def test_wrong_formula_has_counterexample_and_diagnosis(client):
    body = client.post("/api/check", json=item(WRONG)).json()
    assert body["verdict"] == "not_equivalent"
    assert set(body["counterexample"]) >= {"point", "candidate", "expected"}
    assert "sign_flip" in [d["kind"] for d in body["diagnosis"]]


def test_bad_formula_is_400_with_the_error_json(client):
    response = client.post("/api/check", json=item("x*(relu(w1*x)-y))"))
    assert response.status_code == 400
    body = response.json()
    assert body["verdict"] == "error" and body["error"]["kind"] == "parse_error"
    assert body["error"]["position"] == 16 and "rendered" not in body


def test_render_adds_latex_and_the_caret_for_the_page(client):
    body = client.post("/api/check?render=1", json=item(WRONG)).json()
    assert body["tex"]["wrt"] == "w_{1}"
    assert r"\operatorname{ReLU}" in body["tex"]["gradient"]
    assert CONTRACT_KEYS <= set(body)
    bad = client.post("/api/check?render=1", json=item("x*(relu(w1*x)-y))")).json()
    assert bad["rendered"].splitlines()[1:3] == ["  x*(relu(w1*x)-y))",
                                                 "                  ^"]


@pytest.mark.parametrize("body, kind", [
    (b"{oops", "invalid_json"),
    (b"[1, 2]", "invalid_item"),
    (json.dumps({"network": CHAIN, "candidate": 3}).encode(), "invalid_item"),
    (json.dumps({"network": CHAIN, "candidate": "x", "shell": "rm"}).encode(), "invalid_item"),
    (json.dumps({"network": {"weights": ["os.system"]}, "candidate": "x"}).encode(),
     "network_error"),
    (b'{"network": {"weights": ["w1"]}, "candidate": "x", "assume": NaN}', "invalid_json"),
])
def test_bad_requests_are_400(client, body, kind):
    response = client.post("/api/check", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["kind"] == kind


def test_request_size_limit(client):
    huge = json.dumps(item("x" + "+x" * MAX_REQUEST_BYTES)).encode()
    response = client.post("/api/check", content=huge)
    assert response.status_code == 413
    assert response.json()["error"]["kind"] == "limit_exceeded"


def test_slow_check_is_unknown_at_the_budget(client):
    slow = {"network": {"weights": ["w1"], "activations": "sigmoid"}, "wrt": "w1",
            "candidate": "+".join(f"sigmoid(w1*x*{i})*x" for i in range(2, 2400))}
    with TestClient(create_app(jobs=1, timeout=0.05)) as hurried:
        body = hurried.post("/api/check", json=slow).json()
    assert body["verdict"] == "unknown" and "budget" in body["reason"]
    assert client.post("/api/check", json=item()).json()["verdict"] == "equivalent"


def test_gradient(client):
    body = client.post("/api/gradient", json={"network": CHAIN}).json()
    assert set(body) == {"gradients", "definitions", "kink_convention"}
    assert body["gradients"] == {"w1": "dC/dz1*x", "w2": "dC/dz2*a1"}
    one = client.post("/api/gradient", json={"network": CHAIN, "wrt": "w2"}).json()
    assert one["gradients"] == {"w2": "dC/dz2*a1"}
    bad = client.post("/api/gradient", json={"network": CHAIN, "wrt": "v"})
    assert bad.status_code == 400 and bad.json()["error"]["kind"] == "network_error"


def test_parse_preview(client):
    body = client.post("/api/parse", json=item(r"\frac{\partial C}{\partial w_1} = x")).json()
    assert body["latex"] is True and body["wrt"] == "w1" and body["tex"] == "x"
    assert any("w_1" in r for r in body["readings"])


@pytest.mark.pdf
def test_sheet_and_report_are_pdfs(client):
    for path, body in (("/api/sheet", {"network": CHAIN}), ("/api/report", item(WRONG))):
        response = client.post(path, json=body)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")


def test_healthz_and_page(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["workers"] == 2
    page = client.get("/")
    assert page.status_code == 200 and 'id="candidate"' in page.text
    for asset in ("/static/app.js", "/static/style.css", "/static/katex/katex.min.js",
                  "/static/katex/katex.min.css", "/static/katex/fonts/KaTeX_Main-Regular.woff2"):
        assert client.get(asset).status_code == 200, asset


def test_page_uses_no_outside_address(client):
    """Offline: everything the page loads comes from this server."""
    page = client.get("/").text
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert links and all(link.startswith("/") and not link.startswith("//") for link in links)
    css = client.get("/static/katex/katex.min.css").text
    fonts = re.findall(r"url\(([^)]*)\)", css)
    assert fonts and all(f.startswith("fonts/") and f.endswith(".woff2") for f in fonts)
    for font in set(fonts):
        assert client.get("/static/katex/" + font).status_code == 200, font


NG = {"widths": "3,4,1", "batch": "m", "activations": "tanh,sigmoid", "loss": "bce",
      "style": "ng"}


def test_render_a_matrix_check_in_the_styles_notation(client):
    """A matrix network's check, rendered for the page: the formulas in deeplearning.ai's
    notation and the counterexample's matrices as bmatrix (it was a 500 before)."""
    right = {"network": NG, "candidate": r"dW^{[1]} = \frac{1}{m} dZ^{[1]} X^T"}
    body = client.post("/api/check?render=1", json=right).json()
    assert body["verdict"] == "equivalent"
    assert body["tex"]["wrt"] == "dW^{[1]}"
    assert body["tex"]["candidate"] == r"\frac{1}{m} dZ^{[1]} X^{\top}"
    assert r"\frac{\partial J}{\partial Z^{[1]}}" in body["tex"]["definitions"]
    wrong = {"network": NG, "candidate": r"dW^{[1]} = dZ^{[1]} X^T"}
    body = client.post("/api/check?render=1", json=wrong).json()
    assert body["verdict"] == "not_equivalent"
    witness = body["tex"]["counterexample"]
    names = {name: (tex, matrix) for name, tex, matrix in witness["matrices"]}
    assert set(names) == set(body["counterexample"]["matrices"])
    assert names["W1"][0] == "W^{[1]}" and names["W1"][1].startswith(r"\begin{bmatrix}")
    assert names["W1"][1].count(r"\\") == 3            # 4 rows
    assert witness["entry"] == body["counterexample"]["entry"]
    assert witness["sizes"] == [["m", str(body["counterexample"]["sizes"]["m"])]]


def test_render_a_shape_mismatch_shows_the_formula_as_read(client):
    wrong = {"network": NG, "candidate": r"dW^{[1]} = \frac{1}{m} dZ^{[1]} X"}
    body = client.post("/api/check?render=1", json=wrong).json()
    assert body["verdict"] == "not_equivalent"
    assert body["tex"]["candidate"] == r"\frac{1}{m} dZ^{[1]} X"
    assert body["tex"]["counterexample"]["candidate"] is None      # a sentence, not a value
    assert body["tex"]["counterexample"]["expected"].startswith(r"\approx \begin{bmatrix}")


def test_preview_of_a_matrix_formula_with_a_layer_letter(client):
    nielsen = {"widths": "n1,n2,n3,n4", "activations": "sigmoid", "bias": True,
               "style": "nielsen"}
    text = r"\delta^l_j = \sum_k w^{l+1}_{kj} \delta^{l+1}_k \sigma'(z^l_j)"
    body = client.post("/api/parse?render=1", json={"network": nielsen,
                                                     "candidate": text}).json()
    assert body["wrt_tex"] == r"\delta^{2}" and r"\sum_{k}" in body["tex"]
    assert body["readings"][0] == "read l as every layer; shown for l = 2"


@pytest.mark.pdf
def test_report_and_sheet_of_a_matrix_network(client):
    wrong = {"network": NG, "candidate": r"dW^{[1]} = dZ^{[1]} X^T"}
    assert client.post("/api/report", json=wrong).content.startswith(b"%PDF-")
    assert client.post("/api/sheet", json={"network": NG}).content.startswith(b"%PDF-")


def test_gradient_of_a_matrix_network(client):
    body = client.post("/api/gradient", json={"network": NG, "wrt": ["W1", "W2"]}).json()
    assert body["gradients"] == {"W1": "dJ/dZ1 @ X.T", "W2": "dJ/dZ2 @ A1.T"}
    assert body["definitions"]["dJ/dZ1"] == "dJ/dA1 * tanh_prime(Z1)"
    bad = client.post("/api/gradient", json={"network": NG, "wrt": "V1"})
    assert bad.status_code == 400 and "'V1' is not a parameter" in bad.json()["error"]["message"]
