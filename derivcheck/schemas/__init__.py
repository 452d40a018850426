"""JSON Schemas of everything derivcheck reads or prints as JSON, shipped with the package.

| schema | describes |
|---|---|
| ``check`` | ``check --format json`` (a result or an error), ``Result.to_json()`` |
| ``gradient`` | ``gradient --format json`` |
| ``vectors`` | ``vectors`` |
| ``batch-input`` | one line of ``batch``'s IN.jsonl |
| ``batch-output`` | one line of ``batch``'s OUT.jsonl |
| ``question`` | a ``run`` question file (TOML, read into this shape) |
| ``run`` | ``run --format json`` |
| ``network`` | a network (the fields of ``--net FILE.toml``), used by the others |

>>> sorted(NAMES)
['batch-input', 'batch-output', 'check', 'gradient', 'network', 'question', 'run', 'vectors']
>>> schema("check")["title"]
'derivcheck check --format json'
>>> validate({"verdict": "error", "error": {"kind": "parse_error", "message": "expected an "
...           "operand", "position": 3}}, "check")  # needs the jsonschema package
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

__all__ = ["NAMES", "schema", "validate"]

NAMES = ("check", "gradient", "vectors", "batch-input", "batch-output", "question", "run",
         "network")


@lru_cache(maxsize=None)
def _load(name: str) -> str:
    return resources.files(__name__).joinpath(f"{name}.schema.json").read_text("utf-8")


def schema(name: str) -> dict:
    """The schema called ``name`` (one of :data:`NAMES`) as a dict."""
    if name not in NAMES:
        raise ValueError(f"no schema {name!r}; known: {', '.join(NAMES)}")
    return json.loads(_load(name))


def validate(instance, name: str) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``instance`` fits schema ``name``
    (references between the schemas resolved locally). Needs ``jsonschema``."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    resources_ = [(s["$id"], Resource.from_contents(s)) for s in map(schema, NAMES)]
    registry = Registry().with_resources(resources_)
    Draft202012Validator(schema(name), registry=registry).validate(instance)
