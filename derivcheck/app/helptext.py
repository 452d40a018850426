"""What ``--help`` says beyond the options: how to describe a network, examples that
paste into bash as they are (tests/app/test_documented_examples.py runs every one), the
exit codes, and the help texts several commands share."""
from __future__ import annotations

__all__ = ["NETWORKS", "EXAMPLES", "EXIT_CODES", "EPILOG", "KINK_HELP", "VECTORS_KINK_HELP",
           "epilog"]

NETWORKS = """\
networks:
  a chain      --weights w1,w2,w3 --act relu [--biases b1,b2,b3] [--loss half_squared]
  per layer    --weights W0,W1 --act relu,sigmoid --loss bce
  an MLP       --widths 2,3,1 --act relu,identity [--bias]
               weights W0_ij join input i to unit j of layer 1 (W1_21: unit 2 of layer 1
               to unit 1 of layer 2); pre-activations z1_j, activations a1_j, inputs x1, x2
  equations    --forward "z1 = w1*x + b1" --forward "h = relu(z1)" --forward "yhat = w2*h"
  matrices     --widths n0,n1,n2 --act relu,softmax --loss cross_entropy --batch m --bias
               [--style ng|cs231n|nielsen|seed] [--labels] [--reduce mean|sum]
  matrix eqs   --forward "Z1 = W1 @ X + b1" --forward "A1 = relu(Z1)" ... --shape X=n0,m
               --shape W1=n1,n0 (numpy broadcasting; sizes are names or numbers; the shapes
               the equations imply are inferred; a layer without + b has no bias)
  a file       --net network.toml   (the same fields: weights, activations, widths, forward...)
  the loss     --loss l1 (|y - yhat|) | --loss none (the gradient of yhat) | --upstream [dA]
               (dC/dyhat stays a symbol, dyhat by default)
  your names   --define "s(z) = sigmoid(z)" --define "y' = yhat"  (also define = [...] in a file)
"""

#: Examples per command; each line pastes into bash as it is (a test runs them all).
EXAMPLES = {
    "check": [
        """derivcheck check --weights w1 --act relu --wrt w1 --assume "x > 0" '(y - relu(w1*x))*x'""",
        r"""derivcheck check --weights W0 --act relu '\frac{\partial C}{\partial W^{(0)}} = (ReLU(W^{(0)}x) - y)Step(W^{(0)}x)x'""",
        """derivcheck check --weights w1 --act relu --format json '-(y - relu(w1*x))*step(w1*x)*x'""",
        """derivcheck check --weights w1 --act sigmoid --upstream --define "d(z) = sigmoid(z)*(1 - sigmoid(z))" --wrt w1 'dyhat*d(z1)*x'""",
        """derivcheck check --weights w1 --act relu --loss l1 --assume "yhat > y" --wrt w1 'relu_grad(z1)*x'""",
        """derivcheck check --forward "yhat = sigmoid(w1*x1 + w2*x2)" --input x1,x2 --wrt w_j '(yhat - y)*yhat*(1 - yhat)*x_j'""",
        """derivcheck check --forward "Z1 = W1 @ X + b1" --forward "A1 = relu(Z1)" --forward "Z2 = W2 @ A1 + b2" --forward "Yhat = softmax(Z2)" --shape X=n0,m --shape W1=n1,n0 --shape W2=n2,n1 --loss cross_entropy --kink-convention torch 'dW1 = 1/m * (W2.T @ (Yhat - Y) * (Z1 > 0)) @ X.T'""",
    ],
    "gradient": [
        "derivcheck gradient --weights w1,w2,w3 --act relu --format json",
        "derivcheck gradient --widths 2,2,1 --act relu,identity --wrt W0_12",
    ],
    "sheet": ["derivcheck sheet --weights w3,w2,w1 --act relu -o sheet.tex"],
    "vectors": ["derivcheck vectors --widths 2,3,1 --act relu,identity --kinks --points 2 "
                "--kink-convention torch"],
    "parse": [
        r"""derivcheck parse --widths 2,2,1 --act sigmoid,identity '\sigma'"'"'(z^{(1)}_1) \cdot W^{(1)}_{11}'""",
        """derivcheck parse 'x*(relu(w1*x) - y)*step(w1*x)'""",
    ],
    "run": ["derivcheck run --example seed --out out"],
}

EXIT_CODES = """\
exit codes: 0 equivalent / equivalent_almost_everywhere, 1 not_equivalent, 2 bad input
or an output that cannot be written, 3 unknown, 4 internal error. check --report: when the
report cannot be written, the verdict is still printed and the exit code is 2.
every command takes --timeout SECONDS (default 60; at most one day).
"""


def epilog(*commands: str, networks: bool = True) -> str:
    """The text under a command's options: networks, examples, exit codes.

    >>> print(epilog("run", networks=False).splitlines()[1])
      derivcheck run --example seed --out out
    """
    lines = [f"  {e}" for c in commands for e in EXAMPLES[c]]
    return ((NETWORKS + "\n") if networks else "") + "examples:\n" + "\n".join(lines) \
        + "\n\n" + EXIT_CODES


EPILOG = epilog(*EXAMPLES)

KINK_HELP = ("the derivative's value at a kink (Step(0)): any (every c in 0, 1/2, 1), 0, 1, "
             "1/2, or a framework's: torch, jax, tensorflow, numpy (a hand-written backward "
             "such as grad[z < 0] = 0) (default: %(default)s)")
VECTORS_KINK_HELP = KINK_HELP.replace(
    "(default: %(default)s)", "(default: torch, the convention of the backward pass under "
    "test; check defaults to any)")
