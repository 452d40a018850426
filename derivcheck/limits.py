"""Hard limits on input, so hostile or accidental input is refused quickly and clearly.

Each limit is a plain number here; the code that enforces it raises
:class:`derivcheck.errors.LimitError` naming the limit and where it was hit.
"""

#: Characters in one formula, equation or network file.
MAX_TEXT_LENGTH = 200_000
#: Nesting depth of parentheses / braces / function calls in one formula.
MAX_NESTING = 200
#: Distinct names in one formula.
MAX_NAMES = 5_000
#: Absolute value of an integer exponent (``x^{1000}`` is fine, ``9^{9^9}`` is not).
MAX_EXPONENT = 1_000
#: Digits in one integer or decimal literal.
MAX_DIGITS = 200
#: Layers in a chain, and equations in an explicit network.
MAX_DEPTH = 5_000
#: Units in one MLP layer.
MAX_WIDTH = 256
#: Tree size up to which a gradient is printed fully substituted (--expand).
MAX_EXPANDED_SIZE = 20_000
#: Default wall-clock budget for one check, in seconds.
DEFAULT_TIMEOUT = 60.0
#: Bytes in one line of a batch input file.
MAX_BATCH_LINE = 1_000_000
#: Seconds a batch worker gets beyond the timeout to answer before it is killed.
BATCH_GRACE = 3.0
#: Address space of one batch worker process, in bytes (a runaway item fails alone).
WORKER_MEMORY = 4 * 1024**3
