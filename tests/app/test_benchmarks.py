"""The benchmark scripts stay runnable: ``make bench`` calls each ``main(argv)``."""
import importlib.util
import inspect
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.parametrize("name", ["bench_gradients", "bench_check", "bench_oracle",
                                  "bench_matrices", "soundness", "soundness_matrices",
                                  "bench_serve", "bench_evaluate"])
def test_benchmark_main_takes_argv(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    inspect.signature(module.main).bind([])  # raises TypeError if main cannot take argv


@pytest.mark.parametrize("name", ["bench_gradients", "bench_check", "bench_oracle",
                                  "bench_evaluate", "bench_matrices", "soundness",
                                  "soundness_matrices", "bench_serve"])
def test_run_as_a_script_every_function_is_defined_first(name):
    """``python benchmarks/X.py`` runs the ``__main__`` block where it stands: a function
    defined below it does not exist yet."""
    import ast
    tree = ast.parse((BENCHMARKS / f"{name}.py").read_text())
    mains = [i for i, node in enumerate(tree.body) if isinstance(node, ast.If)
             and "__main__" in ast.unparse(node.test)]
    defs = [i for i, node in enumerate(tree.body)
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    assert mains and max(defs) < mains[0]
