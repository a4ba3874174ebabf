"""Verify the SES sender address (SES, like moto, refuses unverified senders)."""
import os

from awsclient import client

sender = os.environ.get("SENDER_ADDRESS", "invitations@14west.example")
client("ses").verify_email_identity(EmailAddress=sender)
print(f"verified sender {sender}")
