"""Verify the SES sender address (SES, like moto, refuses unverified senders)."""
import os

import boto3

ses = boto3.client(
    "ses",
    endpoint_url=os.environ.get("AWS_ENDPOINT_URL", "http://localhost:4566"),
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
)
sender = os.environ.get("SENDER_ADDRESS", "invitations@14west.example")
ses.verify_email_identity(EmailAddress=sender)
print(f"verified sender {sender}")
