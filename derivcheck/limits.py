"""Hard limits on input, so hostile or accidental input is refused quickly and clearly.

Each limit is a plain number here; the code that enforces it raises
:class:`derivcheck.errors.LimitError` naming the limit and where it was hit.
"""

#: Characters in one formula or equation (reading 50,000 takes under 1 s).
MAX_TEXT_LENGTH = 50_000
#: Characters in one network file, and in all forward equations of a network together.
MAX_FILE_SIZE = 200_000
#: Nesting depth of parentheses / braces / function calls / powers in one formula. Real
#: derivations nest about 12 deep; past about 80, SymPy's recursion overflows the stack.
MAX_NESTING = 50
#: Distinct names in one formula.
MAX_NAMES = 5_000
#: Absolute value of an integer exponent (``x^{1000}`` is fine, ``9^{9^9}`` is not), also
#: after SymPy merges powers (``(x^{1000})^{1000}`` is ``x^{1000000}``).
MAX_EXPONENT = 1_000
#: Digits in one integer or decimal literal.
MAX_DIGITS = 200
#: Digits of any number a formula makes (Python refuses to print more than 4300).
MAX_VALUE_DIGITS = 4_000
#: Total degree of a formula in its names (``x^{1000} y^{1000}`` has 2000; a depth-1000
#: chain gradient written out as a product has about 2000), so exact
#: values at a point stay printable.
MAX_DEGREE = 10_000
#: Layers in a chain or an MLP, and equations in an explicit network.
MAX_DEPTH = 1_000
#: Units in one MLP layer.
MAX_WIDTH = 256
#: Weights and biases of one MLP (building 10,000 takes about 2 s).
MAX_PARAMETERS = 10_000
#: The oracle at training sizes (test vectors, gradients at points; no symbolic work):
#: units in one layer, weights and biases in all (a 784-128-10 MLP has 101,770), and
#: units times examples of one batch.
MAX_ORACLE_WIDTH = 65_536
MAX_ORACLE_PARAMETERS = 20_000_000
MAX_ORACLE_ACTIVATIONS = 10_000_000
#: Scalar entries (inputs, weights, targets, pre-activations...) of one instance of a matrix
#: network, at the sizes a check uses.
MAX_INSTANCE_ENTRIES = 3_000
#: Tree size up to which a gradient is printed fully substituted (--expand).
MAX_EXPANDED_SIZE = 20_000
#: Default wall-clock budget, in seconds, of one check, one batch item, and every other
#: command (``--timeout``).
DEFAULT_TIMEOUT = 60.0
#: Largest ``--timeout`` accepted, in seconds (one day).
MAX_TIMEOUT = 86_400.0
#: Seconds a check spends at most on naming the mistake, once the verdict is reached.
DIAGNOSIS_BUDGET = 5.0
#: Mutations of the correct derivation tried when naming a mistake (a wide MLP has one
#: per unit and per weight; each costs a backward pass).
MAX_MUTANTS = 400
#: Seconds past the budget before a check still running is stopped from outside (the
#: decision and the diagnosis stop on their own when the budget runs out).
TIMEOUT_SLACK = 1.0
#: Bytes in one line of a batch input file.
MAX_BATCH_LINE = 1_000_000
#: Bytes of a longer line still read to find its id (past this, its id is null).
MAX_BATCH_SCAN = 32_000_000
#: Characters in a batch id; integer ids have at most MAX_DIGITS digits.
MAX_ID_LENGTH = 1_000
#: Seconds a batch worker gets beyond the timeout to answer before it is killed.
BATCH_GRACE = 3.0
#: Address space of one batch worker process, in bytes (a runaway item fails alone).
WORKER_MEMORY = 4 * 1024**3
#: Random points ``derivcheck vectors --points`` writes at most.
MAX_POINTS = 1_000
#: Kink sites (units with a kink) ``derivcheck vectors --kinks`` places a point on at most;
#: on a network with many parameters, at most KINK_WORK / parameters of them (each site
#: costs several exact backward passes), but at least MIN_KINK_POINTS.
MAX_KINK_POINTS = 64
KINK_WORK = 40_000
MIN_KINK_POINTS = 4
#: Bytes in a question file (``derivcheck run``).
MAX_QUESTION_SIZE = 1_000_000
#: Formulas, and networks, in one question file.
MAX_QUESTION_FORMULAS = 500
MAX_QUESTION_NETWORKS = 50
#: Units of one MLP layer a derivation sheet writes out; wider layers show these and a
#: summary of the rest.
SHEET_UNITS = 3
