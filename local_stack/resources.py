"""The one description of the pipeline's AWS resources: infra/imdb-pipeline.yaml (CloudFormation), read.

`load_template` parses the template's YAML with CloudFormation's short tags (`!Ref`, `!Sub` ...);
`Resolver` evaluates its conditions and intrinsic functions for one set of parameters, asking a
lookup for what only a deployment knows (a resource's `Ref` and `Fn::GetAtt` values). The local
provisioning applies the resource types moto's CloudFormation skips with it; the IAM tests render
the policies with it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from local_stack.settings import REPO_ROOT

TEMPLATE_FILE = REPO_ROOT / "infra" / "imdb-pipeline.yaml"
NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class _TemplateLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation's short tags into their long (JSON) form."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref" or suffix == "Condition":
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _short_tag)


def load_template(path: Path = TEMPLATE_FILE) -> dict:
    return yaml.load(path.read_text(), Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass


class Resolver:
    """Conditions and intrinsic functions of one template for one set of parameters.

    `ref(logical_id)` and `get_att(logical_id, attribute)` answer for resources; parameters and
    the pseudo parameters (`AWS::Region`, `AWS::AccountId`, `AWS::Partition`, `AWS::StackName`) are
    answered here. `AWS::NoValue` removes the key or list item that holds it.
    """

    def __init__(self, template: Mapping, parameters: Mapping[str, str], pseudo: Mapping[str, str],
                 ref: Callable[[str], Any], get_att: Callable[[str, str], Any]):
        declared = template.get("Parameters", {})
        unknown = set(parameters) - set(declared)
        if unknown:
            raise KeyError(f"unknown template parameters {sorted(unknown)}; declared: {sorted(declared)}")
        self.template = template
        self.parameters = {name: _parameter_value(name, spec, parameters) for name, spec in declared.items()}
        self.pseudo = {"AWS::Partition": "aws", "AWS::NoValue": NO_VALUE, **pseudo}
        self._ref = ref
        self._get_att = get_att

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def enabled(self, logical_id: str) -> bool:
        """Whether the resource (or output) exists for these parameters."""
        node = self.template["Resources"].get(logical_id) or self.template["Outputs"][logical_id]
        return "Condition" not in node or self.condition(node["Condition"])

    def resources(self, resource_type: str | None = None) -> dict[str, dict]:
        """The enabled resources (of one type), in template order."""
        return {
            logical_id: resource for logical_id, resource in self.template["Resources"].items()
            if (resource_type is None or resource["Type"] == resource_type) and self.enabled(logical_id)
        }

    def properties(self, logical_id: str) -> dict:
        return self.resolve(self.template["Resources"][logical_id].get("Properties", {}))

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name not in self.template["Resources"]:
            raise KeyError(f"Ref to {name!r}, which is neither a parameter nor a resource")
        return self._ref(name)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, argument), = node.items()
            function = _FUNCTIONS.get(key)
            # `Condition` is a function only inside Conditions (`!Condition Name`), elsewhere a key.
            if function is not None and (key != "Condition" or isinstance(argument, str)):
                return function(self, argument)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self._get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def _get_att_function(self, argument: list) -> Any:
        logical_id, attribute = argument
        return self._get_att(logical_id, attribute)


def _parameter_value(name: str, spec: Mapping, given: Mapping[str, str]) -> Any:
    if name in given:
        raw = given[name]
    elif "Default" in spec:
        raw = spec["Default"]
    else:
        raise KeyError(f"template parameter {name!r} has no default and was not given")
    if spec["Type"] == "Number":
        return int(raw) if float(raw).is_integer() else float(raw)
    if spec["Type"] == "CommaDelimitedList":
        return [item.strip() for item in str(raw).split(",") if item.strip()]
    return str(raw)


def _if(resolver: Resolver, argument: list) -> Any:
    condition, when_true, when_false = argument
    return resolver.resolve(when_true if resolver.condition(condition) else when_false)


def _join(resolver: Resolver, argument: list) -> str:
    separator, items = argument
    return separator.join(str(item) for item in resolver.resolve(items))


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda resolver, name: resolver.ref(name),
    "Condition": lambda resolver, name: resolver.condition(name),
    "Fn::GetAtt": lambda resolver, argument: resolver._get_att_function(argument),
    "Fn::Sub": lambda resolver, argument: resolver._sub(argument),
    "Fn::Join": _join,
    "Fn::If": _if,
    "Fn::Base64": lambda resolver, text: base64.b64encode(str(resolver.resolve(text)).encode()).decode(),
    "Fn::Select": lambda resolver, argument: resolver.resolve(argument[1])[int(argument[0])],
    "Fn::Split": lambda resolver, argument: str(resolver.resolve(argument[1])).split(argument[0]),
    "Fn::Equals": lambda resolver, argument: resolver.resolve(argument[0]) == resolver.resolve(argument[1]),
    "Fn::Not": lambda resolver, argument: not resolver.resolve(argument[0]),
    "Fn::And": lambda resolver, argument: all(resolver.resolve(item) for item in argument),
    "Fn::Or": lambda resolver, argument: any(resolver.resolve(item) for item in argument),
}
