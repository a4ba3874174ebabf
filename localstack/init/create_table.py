"""Create the single table from template.yaml's own `Table` definition.

Run by the LocalStack ready hook init/ready.d/10-table.sh, and by
localstack/hooks_test.go against moto. It copies the `Table` resource's
AttributeDefinitions, KeySchema, GlobalSecondaryIndexes and
LocalSecondaryIndexes (with their Projection), BillingMode (and
ProvisionedThroughput when the table is PROVISIONED), then enables the
TimeToLiveSpecification.

Idempotent: an existing table is left as it is (only TTL is switched on when
the template asks for it and it is off). Honours AWS_ENDPOINT_URL; see
awsclient.py.

Environment:
  TEMPLATE_PATH  the SAM template (default /etc/localstack/template.yaml)
  TABLE_NAME     the table to create (default guestaccess-local)
  TABLE_RESOURCE the logical id of the table resource (default Table)
"""
import os
import sys

import yaml
from botocore.exceptions import ClientError

from awsclient import client


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation short tags (!Ref, !GetAtt, !Sub, ...).

    Each `!Name value` becomes the long form CloudFormation itself uses:
    {"Ref": value} or {"Fn::Name": value}. The table's key properties must be
    literals, so such a value there is reported rather than sent to DynamoDB.
    """


def _any_tag(loader, suffix, node):
    key = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        return {key: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {key: loader.construct_sequence(node, deep=True)}
    return {key: loader.construct_mapping(node, deep=True)}


CfnLoader.add_multi_constructor("!", _any_tag)


class TemplateError(Exception):
    pass


def _literal(value, where):
    """Fail clearly when a property the table needs is an intrinsic function."""
    if isinstance(value, dict) and len(value) == 1:
        (k,) = value
        if k == "Ref" or k.startswith("Fn::"):
            raise TemplateError(f"{where} is {k}, not a literal; the local table needs literal values")
    if isinstance(value, dict):
        for k, v in value.items():
            _literal(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _literal(v, f"{where}[{i}]")
    return value


def _throughput(pt, where):
    if not pt:
        raise TemplateError(f"{where}: ProvisionedThroughput is required for a PROVISIONED table")
    return {
        "ReadCapacityUnits": int(pt["ReadCapacityUnits"]),
        "WriteCapacityUnits": int(pt["WriteCapacityUnits"]),
    }


def _index(ix, kind, provisioned):
    where = f"{kind} {ix.get('IndexName', '?')}"
    out = {
        "IndexName": ix["IndexName"],
        "KeySchema": ix["KeySchema"],
        "Projection": ix["Projection"],
    }
    if provisioned and kind == "GlobalSecondaryIndexes":
        out["ProvisionedThroughput"] = _throughput(ix.get("ProvisionedThroughput"), where)
    return out


def table_request(props, name):
    """The CreateTable arguments for the template's table properties."""
    for key in ("AttributeDefinitions", "KeySchema"):
        if not props.get(key):
            raise TemplateError(f"the table has no {key}")
        _literal(props[key], key)
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode", "ProvisionedThroughput"):
        if key in props:
            _literal(props[key], key)

    # CloudFormation's default is PROVISIONED when BillingMode is absent.
    mode = props.get("BillingMode") or ("PROVISIONED" if props.get("ProvisionedThroughput") else "PAY_PER_REQUEST")
    if mode not in ("PAY_PER_REQUEST", "PROVISIONED"):
        raise TemplateError(f"unsupported BillingMode {mode!r}")
    provisioned = mode == "PROVISIONED"
    req = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": mode,
    }
    if provisioned:
        req["ProvisionedThroughput"] = _throughput(props.get("ProvisionedThroughput"), "table")
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(kind):
            req[kind] = [_index(ix, kind, provisioned) for ix in props[kind]]
    return req


def ttl_attribute(props):
    """The TTL attribute when the template enables TTL, else None."""
    ttl = props.get("TimeToLiveSpecification") or {}
    enabled = ttl.get("Enabled")
    if isinstance(enabled, str):
        enabled = enabled.strip().lower() == "true"
    if enabled and ttl.get("AttributeName"):
        return _literal(ttl["AttributeName"], "TimeToLiveSpecification.AttributeName")
    return None


def load_table(path, resource):
    with open(path, encoding="utf-8") as f:
        tpl = yaml.load(f, Loader=CfnLoader)
    res = (tpl or {}).get("Resources", {}).get(resource)
    if not res or res.get("Type") != "AWS::DynamoDB::Table":
        raise TemplateError(f"{path} has no AWS::DynamoDB::Table resource {resource!r}")
    return res.get("Properties") or {}


def main() -> int:
    path = os.environ.get("TEMPLATE_PATH", "/etc/localstack/template.yaml")
    name = os.environ.get("TABLE_NAME", "guestaccess-local")
    resource = os.environ.get("TABLE_RESOURCE", "Table")
    try:
        props = load_table(path, resource)
        req = table_request(props, name)
        ttl = ttl_attribute(props)
    except (OSError, yaml.YAMLError, TemplateError, KeyError, TypeError, ValueError) as e:
        print(f"create_table: {path}: {e!r}", file=sys.stderr)
        return 2

    db = client("dynamodb")
    try:
        db.describe_table(TableName=name)
        print(f"table {name} exists; left as it is")
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        try:
            db.create_table(**req)
            print(f"table {name} created from {path} ({resource})")
        except ClientError as ce:
            # Another run created it in between: that is fine too.
            if ce.response["Error"]["Code"] != "ResourceInUseException":
                raise
            print(f"table {name} exists; left as it is")
    db.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})

    if ttl:
        cur = db.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
        if cur.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            print(f"table {name}: TTL on {cur.get('AttributeName')} already {cur['TimeToLiveStatus'].lower()}")
        else:
            db.update_time_to_live(TableName=name, TimeToLiveSpecification={"AttributeName": ttl, "Enabled": True})
            print(f"table {name}: TTL enabled on {ttl}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
