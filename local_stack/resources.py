"""The one description of the pipeline's AWS resources (include/aws/resources.json), rendered."""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

from local_stack.settings import REPO_ROOT

RESOURCES_FILE = REPO_ROOT / "include" / "aws" / "resources.json"


def load_resources(path: Path = RESOURCES_FILE, **overrides: str) -> dict:
    """The resource description with every `${name}` filled from its parameters and `overrides`.

    Unknown override names and unfilled placeholders raise, so a typo cannot provision half a stack.
    """
    document = json.loads(path.read_text())
    parameters = dict(document.pop("parameters"))
    unknown = set(overrides) - set(parameters)
    if unknown:
        raise KeyError(f"unknown resource parameters {sorted(unknown)}; known: {sorted(parameters)}")
    parameters.update(overrides)
    rendered = _render(document, parameters)
    rendered["parameters"] = parameters
    return rendered


def _render(node, parameters: dict[str, str]):
    if isinstance(node, dict):
        return {_render(key, parameters): _render(value, parameters) for key, value in node.items()}
    if isinstance(node, list):
        return [_render(item, parameters) for item in node]
    if isinstance(node, str):
        return Template(node).substitute(parameters)
    return node
