#!/usr/bin/env python3
"""Deploy the real template.yaml to localstack-core running on this host, without Docker.

make test runs this (through `make localstack-host-test`) with the repo's .venv Python
(boto3, PyYAML, SAM CLI). It:

1. starts LocalStack from .cache/localstack-venv (make localstack-host) on a free
   loopback port, with a throwaway state directory, no DNS server, no telemetry, DynamoDB
   served by moto (PROVIDER_OVERRIDE_DYNAMODB=moto) and Lambda functions prepared by the
   host executor (LAMBDA_RUNTIME_EXECUTOR=host), both from localstack/host;
2. waits for its health endpoint;
3. runs `sam build` (unless LOCALSTACK_HOST_SKIP_BUILD=1, when make test's sam-check has
   just built .aws-sam/build) and `sam deploy` with the template's default parameters plus
   the four without a default (sender, issuer, audience, JWKS URL) and any
   LOCALSTACK_HOST_PARAMS ("Key=Value Key=Value");
4. asserts the stack is CREATE_COMPLETE and that every table, queue and function the
   template creates under those parameters exists in LocalStack (DescribeTable ACTIVE with
   the template's keys and indexes, GetQueueAttributes, GetFunction State Active);
5. sends a request through LocalStack's API Gateway to the accept function and invokes
   the authorizer, both rebuilt for the host and run as host processes (skipped with
   LOCALSTACK_HOST_REQUESTS=0; see check_requests);
6. stops LocalStack and removes its state, whatever happened.

LOCALSTACK_CFN_ENGINE=legacy (default) or v2 picks LocalStack's CloudFormation engine.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import boto3
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LS_PYTHON = os.path.join(ROOT, ".cache", "localstack-venv", "bin", "python")
SAM = os.path.join(ROOT, ".venv", "bin", "sam")
STACK = "guestaccess-host"
BUCKET = "guestaccess-host-artifacts"
REQUIRED = {  # the template's parameters without a default
    "SenderAddress": "invitations@14west.example",
    "JwtIssuer": "https://idp.14west.example/",
    "JwtAudience": "guestaccess",
    "JwksUrl": "https://idp.14west.example/.well-known/jwks.json",
}
# Parameters changed for LocalStack, each because of a LocalStack limit, not the template:
LOCALSTACK_PARAMS = {
    # The legacy engine creates AWS::ApiGateway::Account without a physical id, so the
    # Ref in ApiGatewayAccountReady fails ("Unable to resolve Ref for resource
    # ApiGatewayAccount (yet)"). "false" is the template's setting for an account that
    # already has API Gateway's CloudWatch role.
    "SetApiGatewayAccountRole": "false",
}
ENGINES = {"legacy": "engine-legacy", "v2": "default"}
SERVICES = "cloudformation,s3,iam,sts,lambda,apigateway,dynamodb,sqs,sns,ses,events,scheduler,logs,cloudwatch"


def step(msg, t0=[time.time()]):
    print(f"== [{time.time() - t0[0]:6.1f}s] {msg}", flush=True)


def fail(msg):
    print(f"localstack/host/deploy_test.py: FAIL: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- template.yaml: short tags, parameters, conditions
class _Loader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    name = {"Ref": "Ref", "Condition": "Condition"}.get(suffix, "Fn::" + suffix)
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


def load_template(path):
    with open(path) as f:
        return yaml.load(f, Loader=_Loader)


def parameter_values(tpl, given):
    values = {}
    for name, spec in tpl.get("Parameters", {}).items():
        v = given.get(name, spec.get("Default"))
        if v is None:
            fail(f"parameter {name} has no default and no value")
        v = str(v)
        values[name] = [x.strip() for x in v.split(",")] if spec["Type"] == "CommaDelimitedList" else v
    return values


def evaluate(expr, params, conditions, cache):
    """Evaluate a Conditions expression (Equals, Not, And, Or, Condition, Ref, Join)."""
    if not isinstance(expr, dict):
        return expr
    (fn, arg), = expr.items()
    ev = lambda e: evaluate(e, params, conditions, cache)  # noqa: E731
    if fn == "Ref":
        return params[arg]
    if fn == "Condition":
        return condition(arg, params, conditions, cache)
    if fn == "Fn::Equals":
        return ev(arg[0]) == ev(arg[1])
    if fn == "Fn::Not":
        return not ev(arg[0])
    if fn == "Fn::And":
        return all(ev(a) for a in arg)
    if fn == "Fn::Or":
        return any(ev(a) for a in arg)
    if fn == "Fn::Join":
        return arg[0].join(ev(arg[1]) if not isinstance(arg[1], list) else [ev(a) for a in arg[1]])
    fail(f"condition function {fn} not understood by this test")


def condition(name, params, conditions, cache):
    if name not in cache:
        cache[name] = bool(evaluate(conditions[name], params, conditions, cache))
    return cache[name]


# --- LocalStack
def start_localstack(port, state_dir, engine, log_path):
    env = dict(os.environ)
    for k in list(env):  # nothing of the caller's AWS setup leaks in
        if k.startswith(("AWS_", "LOCALSTACK_", "PROVIDER_OVERRIDE_")):
            del env[k]
    env.update(
        OVERRIDE_IN_DOCKER="0",  # this machine has /.dockerenv; LocalStack must use host paths
        FILESYSTEM_ROOT=state_dir,
        GATEWAY_LISTEN=f"127.0.0.1:{port}",
        LOCALSTACK_HOST=f"localhost.localstack.cloud:{port}",
        DNS_ADDRESS="0",  # no DNS server on port 53
        DISABLE_EVENTS="1",  # no analytics
        SKIP_SSL_CERT_DOWNLOAD="1",
        SERVICES=SERVICES,
        PROVIDER_OVERRIDE_DYNAMODB="moto",  # localstack/host: never DynamoDB Local
        PROVIDER_OVERRIDE_CLOUDFORMATION=ENGINES[engine],
        LAMBDA_RUNTIME_EXECUTOR="host",  # localstack/host: no Docker, no runtime-init download
    )
    log = open(log_path, "wb")
    return subprocess.Popen(
        [LS_PYTHON, "-m", "localstack.runtime.main"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=state_dir,
    )


def stop_localstack(proc):
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def wait_healthy(proc, endpoint, log_path, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            fail(f"LocalStack exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as r:
                health = json.load(r)
            services = health.get("services", {})
            missing = [s for s in SERVICES.split(",") if services.get(s) not in ("available", "running")]
            if not missing:
                return health
        except OSError:
            pass
        time.sleep(0.5)
    fail(f"LocalStack not healthy after {timeout}s:\n{tail(log_path)}")


def tail(path, n=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


# --- the checks
def check_stack(session, tpl, params):
    cf = session.client("cloudformation")
    stack = cf.describe_stacks(StackName=STACK)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        fail(f"stack status {stack['StackStatus']}: {stack.get('StackStatusReason')}")
    resources = {}
    for page in cf.get_paginator("list_stack_resources").paginate(StackName=STACK):
        for r in page["StackResourceSummaries"]:
            resources[r["LogicalResourceId"]] = r
    conditions, cache = tpl.get("Conditions", {}), {}
    want = {"AWS::Serverless::Function": [], "AWS::SQS::Queue": [], "AWS::DynamoDB::Table": []}
    for lid, res in tpl["Resources"].items():
        if res["Type"] in want and (
            "Condition" not in res or condition(res["Condition"], params, conditions, cache)
        ):
            want[res["Type"]].append(lid)
    if not all(want.values()):
        fail(f"the template has no functions, queues or table under these parameters: {want}")

    def physical(lid):
        r = resources.get(lid)
        if r is None or r["ResourceStatus"] != "CREATE_COMPLETE" or not r.get("PhysicalResourceId"):
            fail(f"{lid}: not created by the stack: {r}")
        return r["PhysicalResourceId"]

    ddb = session.client("dynamodb")
    for lid in want["AWS::DynamoDB::Table"]:
        t = ddb.describe_table(TableName=physical(lid))["Table"]
        props = tpl["Resources"][lid]["Properties"]
        if t["TableStatus"] != "ACTIVE":
            fail(f"table {lid} is {t['TableStatus']}")
        if t["KeySchema"] != props["KeySchema"]:
            fail(f"table {lid} key schema {t['KeySchema']} != template {props['KeySchema']}")
        got = sorted(g["IndexName"] for g in t.get("GlobalSecondaryIndexes", []))
        exp = sorted(g["IndexName"] for g in props.get("GlobalSecondaryIndexes", []))
        if got != exp:
            fail(f"table {lid} indexes {got} != template {exp}")
    sqs = session.client("sqs")
    for lid in want["AWS::SQS::Queue"]:
        arn = sqs.get_queue_attributes(QueueUrl=physical(lid), AttributeNames=["QueueArn"])
        if not arn["Attributes"].get("QueueArn"):
            fail(f"queue {lid} has no ARN")
    lam = session.client("lambda")
    for lid in want["AWS::Serverless::Function"]:
        c = lam.get_function(FunctionName=physical(lid))["Configuration"]
        if c.get("State") != "Active" or c.get("Runtime") != "provided.al2023":
            fail(f"function {lid}: state {c.get('State')} ({c.get('StateReason')}), runtime {c.get('Runtime')}")
    skipped = sorted(
        f"{lid} ({r['ResourceType']})"
        for lid, r in resources.items()
        if r.get("PhysicalResourceId") in (None, "", "unknown")
    )
    return {k.split("::")[-1]: len(v) for k, v in want.items()}, len(resources), skipped


# --- requests through LocalStack's API Gateway to functions running on the host
HOST_FUNCTIONS = {  # logical id -> functions/<dir>, rebuilt for the host to be invoked here
    "AuthorizerFunction": "authorizer",
    "AcceptInvitationFunction": "accept-invitation",
}


def host_goarch():
    import platform

    m = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(m, m)


def http(method, url, headers=None):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def check_requests(session, endpoint, params, work):
    """The public accept route through API Gateway, and the authorizer.

    The stack's bootstraps are linux/arm64; the two functions these requests reach are
    rebuilt for this host and their code replaced (UpdateFunctionCode), so the host
    executor can start them. The accept page for an unknown token comes from the
    function after it looked the token up in the table; the authorizer, invoked with a
    made-up token, refuses it.
    """
    import zipfile

    cf, lam = session.client("cloudformation"), session.client("lambda")
    res = {
        r["LogicalResourceId"]: r.get("PhysicalResourceId")
        for page in cf.get_paginator("list_stack_resources").paginate(StackName=STACK)
        for r in page["StackResourceSummaries"]
    }
    env = dict(os.environ, GOOS="linux", GOARCH=host_goarch(), CGO_ENABLED="0")
    for lid, folder in HOST_FUNCTIONS.items():
        out = os.path.join(work, lid)
        os.makedirs(out, exist_ok=True)
        subprocess.run(
            ["go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", os.path.join(out, "bootstrap"),
             f"./functions/{folder}"], cwd=ROOT, env=env, check=True,
        )
        zpath = os.path.join(out, "code.zip")
        with zipfile.ZipFile(zpath, "w") as z:
            z.write(os.path.join(out, "bootstrap"), "bootstrap")
        with open(zpath, "rb") as f:
            lam.update_function_code(FunctionName=res[lid], ZipFile=f.read())
        lam.get_waiter("function_updated_v2").wait(FunctionName=res[lid])
    base = f"{endpoint}/_aws/execute-api/{res['Api']}/{params['StageName']}"
    token = "A" * 43
    status, ctype, body = http("GET", f"{base}/invitations/accept?token={token}")
    if not (400 <= status < 500 and ctype.startswith("text/html")):
        fail(f"GET /invitations/accept: {status} {ctype} {body[:300]!r}; want the function's 4xx page")
    print(f"   GET /invitations/accept?token=<unknown>: {status} {ctype} (AcceptInvitationFunction)")
    # LocalStack's free API Gateway has no Lambda authorizers: it sends a request to the
    # route's function without calling AuthorizerFunction. So the authorizer is invoked
    # directly, with the REQUEST event API Gateway would send, and must refuse.
    event = {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:us-east-1:000000000000:{res['Api']}/{params['StageName']}/GET/orgs/14west/audit",
        "resource": "/orgs/{orgId}/audit", "path": "/orgs/14west/audit", "httpMethod": "GET",
        "headers": {"Authorization": "Bearer not.a.jwt"}, "pathParameters": {"orgId": "14west"},
        "requestContext": {"stage": params["StageName"], "requestId": "deploy-test"},
    }
    r = lam.invoke(FunctionName=res["AuthorizerFunction"], Payload=json.dumps(event).encode())
    answer = r["Payload"].read()
    if r.get("FunctionError") != "Unhandled" or b'"Unauthorized"' not in answer:
        fail(f"AuthorizerFunction with a made-up token: {r.get('FunctionError')} {answer[:300]!r}; want the error Unauthorized")
    print(f"   AuthorizerFunction invoked with a made-up token: error {answer.decode()[:80]}")


def main():
    engine = os.environ.get("LOCALSTACK_CFN_ENGINE", "legacy")
    if engine not in ENGINES:
        fail(f"LOCALSTACK_CFN_ENGINE={engine}: use one of {sorted(ENGINES)}")
    for tool, fix in ((LS_PYTHON, "make localstack-host"), (SAM, "make venv")):
        if not os.access(tool, os.X_OK):
            fail(f"{tool} missing: run {fix}")
    given = dict(REQUIRED, **LOCALSTACK_PARAMS)
    for kv in os.environ.get("LOCALSTACK_HOST_PARAMS", "").split():
        k, _, v = kv.partition("=")
        given[k] = v
    tpl = load_template(os.path.join(ROOT, "template.yaml"))
    params = parameter_values(tpl, given)

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    state_dir = tempfile.mkdtemp(prefix="localstack-host-")
    log_path = os.path.join(state_dir, "localstack.log")
    step(f"LocalStack 4.13.1 on {endpoint} (CloudFormation engine {engine}, state {state_dir})")
    proc = start_localstack(port, state_dir, engine, log_path)
    ok = False
    try:
        health = wait_healthy(proc, endpoint, log_path)
        step(f"healthy: version {health.get('version')}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL=endpoint, AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", SAM_CLI_TELEMETRY="0",
        )
        if os.environ.get("LOCALSTACK_HOST_SKIP_BUILD") != "1":
            step("sam build --build-in-source")
            subprocess.run([SAM, "build", "--build-in-source"], cwd=ROOT, env=env, check=True)
        elif not os.path.isfile(os.path.join(ROOT, ".aws-sam", "build", "template.yaml")):
            fail("LOCALSTACK_HOST_SKIP_BUILD=1 but .aws-sam/build/template.yaml is missing: run sam build")
        os.environ.update(AWS_ENDPOINT_URL=endpoint)  # this process's boto3 clients too
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        # An artifacts bucket of our own: --resolve-s3 would first deploy SAM's managed stack.
        session.client("s3").create_bucket(Bucket=BUCKET)
        overrides = " ".join(f"{k}={v}" for k, v in given.items())
        step(f"sam deploy {STACK} --parameter-overrides {overrides}")
        deploy = subprocess.run(
            [SAM, "deploy", "--stack-name", STACK, "--region", "us-east-1", "--no-resolve-s3",
             "--s3-bucket", BUCKET, "--capabilities", "CAPABILITY_IAM", "--no-confirm-changeset",
             "--no-fail-on-empty-changeset", "--no-progressbar", "--parameter-overrides", overrides],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        out = "\n".join(l for l in deploy.stdout.splitlines() if "Uploading to" not in l)
        if deploy.returncode != 0:
            print(out[-6000:])
            fail(f"sam deploy exited with {deploy.returncode}; LocalStack's log:\n{tail(log_path, 40)}")
        step("sam deploy done; checking the stack")
        counts, total, skipped = check_stack(session, tpl, params)
        step(f"CREATE_COMPLETE: {total} resources; exist in LocalStack: {counts}")
        if skipped:
            print("   listed CREATE_COMPLETE but not created by LocalStack (no provider, or condition false):")
            for s in skipped:
                print(f"     {s}")
        if os.environ.get("LOCALSTACK_HOST_REQUESTS", "1") != "0":
            step("requests through API Gateway to functions running on the host")
            check_requests(session, endpoint, params, state_dir)
            step("requests answered by the functions")
        ok = True
    finally:
        stop_localstack(proc)
        if ok or os.environ.get("LOCALSTACK_HOST_KEEP_STATE") != "1":
            shutil.rmtree(state_dir, ignore_errors=True)
        step("LocalStack stopped" + ("" if ok else f" (log kept only with LOCALSTACK_HOST_KEEP_STATE=1)"))


if __name__ == "__main__":
    main()
