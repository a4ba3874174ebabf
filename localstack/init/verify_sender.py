"""Verify the SES sender address: SES (and moto, and LocalStack) refuse to
send from an unverified identity. LocalStack marks it verified at once.

Run by the LocalStack ready hook init/ready.d/20-ses.sh and by
localstack/hooks_test.go against moto. Idempotent: verifying again is a no-op.

Environment: SENDER_ADDRESS (default invitations@14west.example); endpoint,
region and credentials as in awsclient.py.
"""
import os
import sys

from awsclient import client


def main() -> int:
    sender = os.environ.get("SENDER_ADDRESS") or "invitations@14west.example"
    ses = client("ses")
    ses.verify_email_identity(EmailAddress=sender)
    attrs = ses.get_identity_verification_attributes(Identities=[sender])["VerificationAttributes"]
    status = attrs.get(sender, {}).get("VerificationStatus", "unknown")
    print(f"SES sender {sender}: {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
