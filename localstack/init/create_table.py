"""Create the single table from template.yaml's own `Table` definition.

Run by the LocalStack ready hook (and by localstack/hooks_test.go against moto).
Idempotent: an existing table is left as it is. Honours AWS_ENDPOINT_URL.
"""
import os
import sys

import yaml

from awsclient import client


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation short tags (!Ref, !GetAtt, ...)."""


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}


CfnLoader.add_multi_constructor("!", _any_tag)


def main() -> int:
    path = os.environ.get("TEMPLATE_PATH", "/etc/localstack/template.yaml")
    name = os.environ.get("TABLE_NAME", "guestaccess-local")
    with open(path) as f:
        tpl = yaml.load(f, Loader=CfnLoader)
    props = tpl["Resources"]["Table"]["Properties"]
    db = client("dynamodb")
    if name in db.list_tables()["TableNames"]:
        print(f"table {name} exists")
        return 0
    args = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = [
            {"IndexName": g["IndexName"], "KeySchema": g["KeySchema"], "Projection": g["Projection"]}
            for g in props["GlobalSecondaryIndexes"]
        ]
    db.create_table(**args)
    db.get_waiter("table_exists").wait(TableName=name)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        db.update_time_to_live(TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True})
    print(f"table {name} created from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
