"""Run every benchmark in one go: ``make bench`` / ``python benchmarks/run.py``."""
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

for name in ("bench_gradients", "bench_check", "bench_oracle", "bench_evaluate", "bench_matrices",
             "bench_serve"):
    if (HERE / f"{name}.py").exists():
        print(f"== {name}")
        importlib.import_module(name).main([])
