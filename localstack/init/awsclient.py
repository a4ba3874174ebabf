"""boto3 clients for the init hooks.

Endpoint: AWS_ENDPOINT_URL when set (boto3 >= 1.28 reads it natively; it is
passed explicitly here so older boto3 behave the same), else LocalStack's own
http://localhost:4566 (the hooks run inside the LocalStack container). Region
AWS_REGION / AWS_DEFAULT_REGION, else us-east-1. Credentials from the
environment, else LocalStack's test/test. Never real AWS: without an endpoint
variable the clients still go to localhost.
"""
import os

import boto3


def client(service: str):
    return boto3.client(
        service,
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or "http://localhost:4566",
        region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "test",
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "test",
    )
