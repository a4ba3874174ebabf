#!/usr/bin/env python3
"""cfn-lint on the SAM-transformed template, for every combination of its conditions.

`sam validate --lint` lints template.yaml as written, and cfn-lint skips a
dependency cycle that involves a SAM resource type (AWS::Serverless::*), so a
stack CloudFormation refuses ("Circular dependency between resources") passes
it. This script lints what CloudFormation really receives:

1. template.yaml is translated by the SAM translator (samtranslator, the
   library `sam deploy` and CloudFormation's AWS::Serverless transform use):
   each function's CodeUri becomes an s3:// URI, Metadata is dropped, no
   managed policy is looked up (no AWS call is made).
2. The translation is linted by cfn-lint as is, with the default parameters.
3. For each combination of the parameters the template's conditions read
   (PublicBaseUrl, AllowedOrigins, DeployConsole, PublicRequestsPerIp), the
   combination's values become the parameters' defaults and the template is
   *resolved* before the translation: every condition is evaluated, resources
   and outputs whose condition is false are dropped, each Fn::If is replaced
   by its chosen branch (AWS::NoValue removes the property or item). cfn-lint's
   dependency graph (E3004) ignores conditions, and its own condition
   scenarios do not take parameter values into the graph, so only a resolved
   template makes a combination count: a cycle that exists only with
   PublicBaseUrl empty is reported for that combination alone. cfn-lint also
   gets the combination's values as its parameter set.

Any cfn-lint error (informational findings and warnings are printed, not
counted) fails the run. Combinations run in parallel processes.

Usage: cfnlint_transformed.py [template.yaml]   (exit 1 on any error)
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
logging.disable(logging.WARNING)  # the translator's metrics notices

# The values each condition-driving parameter takes: the default (empty or
# the template's) and one that flips the conditions it drives.
DIMENSIONS = {
    "PublicBaseUrl": ["", "https://guests.example.com/v1"],
    "AllowedOrigins": ["", "https://admin.example.com,http://localhost:5173"],
    "DeployConsole": ["false", "true"],
    "PublicRequestsPerIp": ["0", "100"],
}

# Parameters without a default get these (the values of a real deployment's shape).
REQUIRED = {
    "SenderAddress": "invitations@example.com",
    "JwtIssuer": "https://idp.example.com/",
    "JwtAudience": "guestaccess",
    "JwksUrl": "https://idp.example.com/.well-known/jwks.json",
    "ConsoleTokenUrl": "https://idp.example.com/oauth2/token",
}


class NoManagedPolicies:
    """ManagedPolicyLoader stand-in: the template names no AWS managed policy by name."""

    def load(self):
        return {}


def load_template(path: str) -> dict:
    from samtranslator.yaml_helper import yaml_parse

    with open(path, encoding="utf-8") as f:
        return yaml_parse(f.read())


def sam_ready(t: dict) -> dict:
    """The template as the SAM translator takes it offline: code in S3, no build Metadata."""
    t = copy.deepcopy(t)
    for name, r in t.get("Resources", {}).items():
        if r.get("Type") in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            props = r.setdefault("Properties", {})
            key = "ContentUri" if r["Type"] == "AWS::Serverless::LayerVersion" else "CodeUri"
            props[key] = f"s3://guestaccess-artifacts/{name}.zip"
        r.pop("Metadata", None)
    return t


def translate(t: dict, params: dict) -> dict:
    from samtranslator.translator.transform import transform

    return transform(sam_ready(t), params, NoManagedPolicies())


# --- condition resolution ---------------------------------------------------

NO_VALUE = object()


def parameter_values(t: dict, overrides: dict) -> dict:
    values = {}
    for name, p in t.get("Parameters", {}).items():
        v = overrides.get(name, p.get("Default"))
        if v is None:
            v = REQUIRED.get(name)
        if p.get("Type") == "CommaDelimitedList" and isinstance(v, str):
            v = v.split(",")
        values[name] = v
    return values


def evaluate(node, params: dict, conditions: dict):
    """The value of a condition expression (only the functions conditions may use)."""
    if isinstance(node, dict) and len(node) == 1:
        (fn, arg), = node.items()
        if fn == "Ref":
            if arg not in params:
                raise ValueError(f"condition refers to {arg}, not a parameter")
            return params[arg]
        if fn == "Condition":
            return conditions[arg]
        if fn == "Fn::Equals":
            a, b = (evaluate(x, params, conditions) for x in arg)
            return str(a) == str(b)
        if fn == "Fn::Not":
            return not evaluate(arg[0], params, conditions)
        if fn == "Fn::And":
            return all(evaluate(x, params, conditions) for x in arg)
        if fn == "Fn::Or":
            return any(evaluate(x, params, conditions) for x in arg)
        if fn == "Fn::Join":
            sep, items = arg
            items = evaluate(items, params, conditions)
            return sep.join(str(evaluate(x, params, conditions)) for x in items)
        if fn == "Fn::Select":
            i, items = arg
            return evaluate(items, params, conditions)[int(evaluate(i, params, conditions))]
        raise ValueError(f"{fn} in a condition is not resolved by this script")
    if isinstance(node, list):
        return [evaluate(x, params, conditions) for x in node]
    return node


def resolve_conditions(t: dict, params: dict) -> dict:
    conditions: dict = {}
    pending = dict(t.get("Conditions", {}))
    while pending:
        progressed = False
        for name, expr in list(pending.items()):
            try:
                conditions[name] = bool(evaluate(expr, params, conditions))
            except KeyError:
                continue  # refers to a condition not evaluated yet
            del pending[name]
            progressed = True
        if not progressed:
            raise ValueError(f"conditions refer to each other or to unknown ones: {sorted(pending)}")
    return conditions


def prune(node, conditions: dict):
    """node with each Fn::If replaced by its branch; NO_VALUE where AWS::NoValue."""
    if isinstance(node, dict):
        if len(node) == 1 and "Fn::If" in node:
            name, yes, no = node["Fn::If"]
            return prune(yes if conditions[name] else no, conditions)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        out = {}
        for k, v in node.items():
            v = prune(v, conditions)
            if v is not NO_VALUE:
                out[k] = v
        return out
    if isinstance(node, list):
        return [v for v in (prune(x, conditions) for x in node) if v is not NO_VALUE]
    return node


def resolve(t: dict, overrides: dict) -> dict:
    """t for one combination: its values as defaults, conditions applied and removed."""
    t = copy.deepcopy(t)
    params = parameter_values(t, overrides)
    conditions = resolve_conditions(t, params)
    for name, p in t.get("Parameters", {}).items():
        if name in overrides:
            p["Default"] = overrides[name]
    for section in ("Resources", "Outputs"):
        for name in list(t.get(section, {})):
            entry = t[section][name]
            c = entry.pop("Condition", None) if isinstance(entry, dict) else None
            if c is not None and not conditions[c]:
                del t[section][name]
    # DependsOn a dropped resource would dangle (CloudFormation refuses it too,
    # so a real template has none; keep the check honest by leaving it).
    t.pop("Conditions", None)
    for section in ("Resources", "Outputs", "Globals"):
        if section in t:
            t[section] = prune(t[section], conditions)
    return t


# --- linting ----------------------------------------------------------------


def lint(cfn: dict, params: dict) -> list:
    from cfnlint.api import lint as cfn_lint
    from cfnlint.config import ManualArgs

    values = {k: v for k, v in params.items() if v is not None}
    config = ManualArgs(regions=["us-east-1"], parameters=[values])
    return cfn_lint(json.dumps(cfn), config=config)


def run(label: str, template_path: str, overrides: dict | None) -> tuple[str, list[str], list[str], float]:
    start = time.monotonic()
    t = load_template(template_path)
    if overrides is not None:
        t = resolve(t, overrides)
    params = parameter_values(t, overrides or {})
    sam_params = {k: v for k, v in params.items() if v is not None}
    try:
        cfn = translate(t, sam_params)
    except Exception as e:  # the translator's own refusal is an error too
        return label, [f"SAM translator: {e}"], [], time.monotonic() - start
    errors, notes = [], []
    for m in lint(cfn, params):
        if overrides is not None and m.rule.id == "W2001":
            continue  # a parameter only a dropped branch used: expected once resolved
        line = f"{m.rule.id} {m.message} ({'/'.join(str(p) for p in m.path)})"
        (errors if m.rule.id.startswith("E") else notes).append(line)
    return label, errors, notes, time.monotonic() - start


def combinations() -> list[tuple[str, dict]]:
    keys = list(DIMENSIONS)
    out = []
    for values in itertools.product(*(DIMENSIONS[k] for k in keys)):
        overrides = dict(zip(keys, values))
        label = " ".join(f"{k}={'<empty>' if v == '' else v}" for k, v in overrides.items())
        out.append((label, overrides))
    return out


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    start = time.monotonic()
    jobs = [("default parameters, conditions unresolved", None)] + combinations()
    workers = int(os.environ.get("CFNLINT_JOBS", "0")) or min(len(jobs), os.cpu_count() or 2)
    failed = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, label, path, overrides) for label, overrides in jobs]
        for f in futures:
            label, errors, notes, took = f.result()
            status = "ok" if not errors else f"{len(errors)} error(s)"
            print(f"{status:>12}  {took:5.1f}s  {label}")
            for e in errors:
                print(f"              {e}")
            for n in notes:
                print(f"              (not counted) {n}")
            failed += bool(errors)
    print(f"cfn-lint on the transformed template: {len(jobs)} runs, {failed} with errors, "
          f"{time.monotonic() - start:.1f}s ({workers} processes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
