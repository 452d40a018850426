"""derivcheck.core.spec: network descriptions from dicts and TOML files, and their errors."""
import pytest

from derivcheck import limits
from derivcheck.errors import SpecError
from derivcheck.core.spec import NetworkSpec


@pytest.mark.parametrize("data, expected", [
    ({"weights": ["w1", "w2"], "activations": "relu"},
     dict(kind="chain", weights=["w1", "w2"], activations=["relu", "relu"], biases=[],
          inputs=["x"], targets=["y"], loss="half_squared")),
    ({"weights": "w1, w2,w3", "activations": "relu,leaky_relu(0.01),sigmoid"},
     dict(weights=["w1", "w2", "w3"], activations=["relu", "leaky_relu(0.01)", "sigmoid"])),
    ({"weights": "W0,W1", "act": "elu(1), tanh"}, dict(activations=["elu(1)", "tanh"])),
    ({"weights": "w1,w2", "activation": ["relu", "prelu(a)"]},
     dict(activations=["relu", "prelu(a)"])),
    ({"weights": "w1,w2"}, dict(activations=["relu", "relu"])),
    ({"weights": "w1,w2", "biases": "b1,b2", "input": "u", "target": "t", "loss": "bce"},
     dict(biases=["b1", "b2"], inputs=["u"], targets=["t"], loss="bce")),
    ({"weights": "w1", "biases": False}, dict(biases=[])),
    ({"weights": "w1", "activations": "leaky_relu(a, )"}, dict(activations=["leaky_relu(a, )"])),
    ({"widths": [2, 3, 1], "activations": "relu,sigmoid", "bias": True},
     dict(kind="mlp", widths=[2, 3, 1], activations=["relu", "sigmoid"], bias=True,
          inputs=[], targets=[])),
    ({"widths": "2,2,1"}, dict(kind="mlp", widths=[2, 2, 1], activations=["relu", "relu"])),
    ({"widths": [2, 1], "inputs": "p,q", "targets": ["t"]},
     dict(inputs=["p", "q"], targets=["t"])),
    ({"forward": "yhat = w*x"}, dict(kind="forward", forward=["yhat = w*x"], inputs=["x"],
                                     targets=["y"])),
    ({"forward": ["z = w1*x1 + w2*x2", "yhat = relu(z)"], "input": "x1,x2",
      "loss": "squared"},
     dict(forward=["z = w1*x1 + w2*x2", "yhat = relu(z)"], inputs=["x1", "x2"],
          loss="squared")),
])
def test_from_dict(data, expected):
    spec = NetworkSpec.from_dict(data)
    for key, value in expected.items():
        assert getattr(spec, key) == value, key


@pytest.mark.parametrize("text, expected", [
    ("relu,leaky_relu(0.01),sigmoid", ["relu", "leaky_relu(0.01)", "sigmoid"]),
    ("relu, elu(1) ,tanh", ["relu", "elu(1)", "tanh"]),
    ("leaky_relu(a, b),relu", ["leaky_relu(a, b)", "relu"]),
    ("relu,", ["relu"]),
])
def test_activation_lists_split_at_top_level_commas(text, expected):
    n = len(expected)
    spec = NetworkSpec.from_dict({"weights": [f"w{k}" for k in range(1, n + 1)],
                                  "activations": text})
    assert spec.activations == expected


@pytest.mark.parametrize("data, fragment", [
    ([1, 2], "must be an object"),
    ({"weights": "w1", "bogus": 1}, "unknown network field(s): bogus"),
    ({"weights": "w1", "loss": "hinge"}, "unknown loss 'hinge'"),
    ({"weights": "w1", "loss": "cross-entropy"}, "unknown loss"),
    ({}, "needs weights"),
    ({"weights": ""}, "is not a valid name"),
    ({"weights": []}, "needs weights"),
    ({"weights": "w1,w2", "activations": "relu,relu,relu"}, "2 weights but 3 activations"),
    ({"weights": "w1,w2,w3", "activations": "relu,tanh"}, "3 weights but 2 activations"),
    ({"weights": "w1,w2", "biases": "b1"}, "2 weights but 1 biases"),
    ({"weights": "w1", "biases": True}, "biases are given by name"),
    ({"weights": "w1", "bias": True}, "biases are given by name"),
    ({"weights": "__import__"}, "'__import__' is not a valid name"),
    ({"weights": "a b"}, "'a b' is not a valid name"),
    ({"weights": "w1,w-2"}, "'w-2' is not a valid name"),
    ({"weights": "w1", "input": "x.y"}, "not a valid name"),
    ({"weights": "w1", "target": "1y"}, "not a valid name"),
    ({"weights": "w1", "biases": "os.system"}, "not a valid name"),
    ({"weights": [1, 2]}, "expected names"),
    ({"weights": "w" * 65}, "not a valid name"),
    ({"widths": [2]}, "widths need an input and an output layer"),
    ({"widths": [2, 0, 1]}, "widths need"),
    ({"widths": [2, limits.MAX_WIDTH + 1, 1]}, "widths need"),
    ({"widths": "2,x!"}, "widths must be whole numbers"),
    ({"widths": [2, 3, 1], "activations": "relu,relu,relu"}, "2 layers but 3 activations"),
    ({"forward": ["y = x"] * (limits.MAX_DEPTH + 1)}, "more than the limit"),
    ({"weights": [f"w{k}" for k in range(limits.MAX_DEPTH + 1)]}, "more than the limit"),
    ({"forward": "yhat = x", "input": "__class__"}, "not a valid name"),
])
def test_errors(data, fragment):
    with pytest.raises(SpecError) as err:
        NetworkSpec.from_dict(data)
    assert fragment in err.value.message


def test_unknown_loss_hint_lists_losses():
    with pytest.raises(SpecError) as err:
        NetworkSpec.from_dict({"weights": "w1", "loss": "l2"})
    assert "half_squared" in err.value.hint and "cross_entropy" in err.value.hint
    assert err.value.kind == "network_error"


@pytest.mark.parametrize("data", [
    {"weights": ["w1", "w2"], "activations": ["relu", "sigmoid"], "loss": "bce"},
    {"weights": ["W0", "W1"], "activations": "relu", "biases": ["b0", "b1"], "input": "u",
     "target": "t"},
    {"widths": [2, 3, 2], "activations": ["relu", "sigmoid"], "bias": True,
     "loss": "cross_entropy"},
    {"forward": ["z = w*x", "yhat = relu(z)"], "input": ["x"], "target": "y"},
])
def test_to_dict_round_trips(data):
    spec = NetworkSpec.from_dict(data)
    assert NetworkSpec.from_dict(spec.to_dict()) == spec


def test_to_dict_shape():
    d = NetworkSpec.from_dict({"weights": "w1,w2", "biases": "b1,b2"}).to_dict()
    assert d == {"weights": ["w1", "w2"], "activations": ["relu", "relu"],
                 "biases": ["b1", "b2"], "input": "x", "target": "y", "loss": "half_squared"}


# --- TOML ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ('weights = ["w1", "w2"]\nactivations = "relu,leaky_relu(0.01)"\nloss = "squared"\n',
     dict(kind="chain", weights=["w1", "w2"], activations=["relu", "leaky_relu(0.01)"],
          loss="squared")),
    ('[network]\nweights = "W0,W1"\nact = "sigmoid"\nbiases = ["b1", "b2"]\n'
     'input = "u"\ntarget = "t"\n',
     dict(weights=["W0", "W1"], activations=["sigmoid", "sigmoid"], biases=["b1", "b2"],
          inputs=["u"], targets=["t"])),
    ('widths = [2, 3, 1]\nactivations = ["relu", "sigmoid"]\nbias = true\nloss = "bce"\n',
     dict(kind="mlp", widths=[2, 3, 1], bias=True, loss="bce")),
    ('forward = ["z1 = w1*x + b1", "h = relu(z1)", "yhat = w2*h + b2"]\ninput = "x"\n',
     dict(kind="forward", forward=["z1 = w1*x + b1", "h = relu(z1)", "yhat = w2*h + b2"])),
])
def test_from_toml(tmp_path, text, expected):
    path = tmp_path / "net.toml"
    path.write_text(text)
    spec = NetworkSpec.from_toml(path)
    for key, value in expected.items():
        assert getattr(spec, key) == value, key
    assert NetworkSpec.from_toml(str(path)) == spec


@pytest.mark.parametrize("text, fragment", [
    ('weights = ["w1"\n', "net.toml"),                     # TOML syntax error, file named
    ('weights = ["w1"]\nloss = "hinge"\n', "unknown loss"),
    ('weights = ["w1"]\ncolour = "red"\n', "unknown network field"),
    ('weights = ["w1", "__import__"]\n', "not a valid name"),
    ("[other]\nweights = 1\n", "unknown network field"),
])
def test_from_toml_errors(tmp_path, text, fragment):
    path = tmp_path / "net.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as err:
        NetworkSpec.from_toml(path)
    assert fragment in err.value.message


def test_from_toml_missing_file(tmp_path):
    with pytest.raises(SpecError) as err:
        NetworkSpec.from_toml(tmp_path / "nope.toml")
    assert "cannot read network file" in err.value.message


def test_from_toml_too_long(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * limits.MAX_FILE_SIZE + "\nweights = ['w1']\n")
    with pytest.raises(SpecError) as err:
        NetworkSpec.from_toml(path)
    assert "longer than" in err.value.message


def test_labels_field():
    from derivcheck.core.network import from_dict
    assert from_dict({"widths": [2, 3, 2], "loss": "cross_entropy", "labels": True}).labels
    assert not getattr(from_dict({"widths": [2, 3, 1], "labels": False}), "is_matrix", False)
    with pytest.raises(SpecError, match="labels must be true or false"):
        from_dict({"widths": [2, 3, 2], "loss": "cross_entropy", "labels": "yes"})
    with pytest.raises(SpecError, match="class labels are targets of cross_entropy"):
        from_dict({"widths": [2, 3, 2], "loss": "bce", "labels": True})
