"""Real ids for the contract fuzzing (infra/scripts/contract.sh).

Against a fresh `make dev` stack (its demo org 14west) this makes what the
fuzzed operations need to get past their 404s: a pending invitation, a group
job, an export job, an API token and a group to delete. It prints them as
shell `export` lines; infra/contract/schemathesis.toml reads them as
${NAME} placeholders.
"""

import json
import re
import sys
import time
import urllib.request

BASE = sys.argv[1].rstrip("/")
INBOX = sys.argv[2].rstrip("/")  # aws-ses-v2-local: the sent emails as JSON at /store


def call(method, path, token=None, body=None, headers=None):
    req = urllib.request.Request(BASE + path, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, data=data, timeout=30) as resp:
        return resp.status, json.loads(resp.read() or b"null")


def token(query):
    return call("GET", "/dev/token?" + query)[1]["token"]


def accept_token(address):
    """The token of the accept link emailed to address (from the SES inbox)."""
    for _ in range(50):
        with urllib.request.urlopen(INBOX + "/store", timeout=30) as resp:
            text = json.dumps(json.loads(resp.read()))
        for email in re.split(r'(?="messageId")', text):
            if address in email:
                m = re.search(r"/invitations/accept\?token=([A-Za-z0-9_-]+)", email)
                if m:
                    return m.group(1)
        time.sleep(0.1)
    raise SystemExit(f"no accept link was emailed to {address}")


def main():
    admin = token("sub=admin-14west")
    out = {
        "CONTRACT_ADMIN_TOKEN": admin,
        "CONTRACT_SELF_TOKEN": token("sub=alice-14west"),
        # Product tokens are bound to their product and orgs: this one may
        # ask about the demo org's Confluence (elsewhere decisions are 404s).
        "CONTRACT_PRODUCT_TOKEN": token("product=confluence&org=14west"),
    }
    _, inv = call("POST", "/orgs/14west/sites/wiki/invitations", admin,
                  {"emails": ["fuzz-invitee@agency.example"], "products": {"confluence": {"role": "guest"}}})
    out["CONTRACT_INVITATION"] = next(r["invitationId"] for r in inv["results"] if r.get("invitationId"))
    call("POST", "/orgs/14west/sites/wiki/invitations", admin,
         {"emails": ["fuzz-accept@agency.example"], "groups": ["partners"]})
    out["CONTRACT_ACCEPT_TOKEN"] = accept_token("fuzz-accept@agency.example")
    _, grp = call("POST", "/orgs/14west/groups", admin, {"name": "Fuzz doomed", "id": "fuzz-doomed"})
    out["CONTRACT_DOOMED_GROUP"] = grp["id"]
    _, job = call("PUT", "/orgs/14west/groups/staff/roles/wiki/jira", admin, {"role": "user"})
    out["CONTRACT_JOB"] = job["id"]
    _, exp = call("POST", "/orgs/14west/external-users/exports", admin)
    out["CONTRACT_EXPORT"] = exp["id"]
    for _ in range(50):  # the export worker runs in process; its CSV is there in moments
        if call("GET", "/orgs/14west/external-users/exports/" + exp["id"], admin)[1]["status"] != "running":
            break
        time.sleep(0.1)
    _, tok = call("POST", "/orgs/14west/users/alice-14west/api-tokens", out["CONTRACT_SELF_TOKEN"], {"label": "fuzz"})
    out["CONTRACT_API_TOKEN_ID"] = tok["id"]
    out["CONTRACT_API_TOKEN_SECRET"] = tok["secret"]
    for k, v in out.items():
        print(f"export {k}='{v}'")


if __name__ == "__main__":
    main()
