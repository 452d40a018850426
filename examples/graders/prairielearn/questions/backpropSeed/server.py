"""PrairieLearn question code: the questions (network and parameter per answer) go to the
page and, through data.json, to the external grader (derivcheck_grader/grade.py)."""

QUESTIONS = [
    {"id": "dW0", "network": {"weights": ["W0"], "activations": "relu"}, "wrt": "W0",
     "prompt": "One ReLU layer, r = ReLU(W0 x), C = (r - y)^2 / 2: give dC/dW0."},
    {"id": "dw1", "network": {"weights": ["w1", "w2"], "activations": "relu"}, "wrt": "w1",
     "prompt": "Two ReLU layers, a1 = ReLU(w1 x), yhat = ReLU(w2 a1), "
               "C = (yhat - y)^2 / 2: give dC/dw1."},
]


def generate(data):
    data["params"]["questions"] = QUESTIONS
