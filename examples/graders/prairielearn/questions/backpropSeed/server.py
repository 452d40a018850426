"""PrairieLearn question code: the questions (network and parameter per answer) go to the
page and, through data.json, to the external grader (derivcheck_grader/grade.py)."""

QUESTIONS = [
    {"id": "dW0", "network": {"weights": ["W0"], "activations": "relu"}, "wrt": "W0",
     "prompt": "One ReLU layer, r = ReLU(W0 x), C = (r - y)^2 / 2: give dC/dW0."},
    {"id": "dw1", "network": {"weights": ["w1", "w2"], "activations": "relu"}, "wrt": "w1",
     "prompt": "Two ReLU layers, a1 = ReLU(w1 x), yhat = ReLU(w2 a1), "
               "C = (yhat - y)^2 / 2: give dC/dw1."},
    {"id": "dW1", "network": {"widths": [3, 4, 1], "batch": "m", "bias": True,
                              "activations": ["tanh", "sigmoid"], "loss": "bce", "style": "ng"},
     "wrt": "dW1",
     "prompt": "deeplearning.ai's two-layer network: X is 3 x m (examples as columns), "
               "A^{[1]} = tanh(W^{[1]} X + b^{[1]}) with 4 units, "
               "A^{[2]} = sigmoid(W^{[2]} A^{[1]} + b^{[2]}), J = binary cross-entropy "
               "averaged over the m examples. Give dW^{[1]} (you may use dZ^{[1]}, the "
               "per-example gradients stacked)."},
]


def generate(data):
    data["params"]["questions"] = QUESTIONS
