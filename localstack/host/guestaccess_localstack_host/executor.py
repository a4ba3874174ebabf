"""A Lambda runtime executor that runs a function's bootstrap as a process on the host.

LocalStack's own executor starts a Docker container with its lambda-runtime-init
(a fork of the AWS runtime interface emulator, downloaded from GitHub) inside.
This one needs neither: it serves the Lambda Runtime API itself, on a free
loopback port, and starts the function's ``bootstrap`` (a ``provided.al2023``
custom runtime) with ``AWS_LAMBDA_RUNTIME_API`` pointing at it. The bootstrap must
therefore be built for the host (``LAMBDA_ARCH`` in the Makefile), whatever the
function's declared architecture. Only custom runtimes (a ``bootstrap`` file in
the code) are supported; that is all this stack uses.
"""

import json
import logging
import os
import queue
import subprocess
import threading
import time
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from localstack import config
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import RuntimeExecutor

LOG = logging.getLogger(__name__)

_RUNTIME = "/2018-06-01/runtime"
_LOG_LIMIT = 256 * 1024


class HostRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """LAMBDA_RUNTIME_EXECUTOR=host."""

    name = "host"

    def load(self, *args, **kwargs):
        return HostRuntimeExecutor


class _Invocation:
    def __init__(self, payload: dict):
        self.payload = payload
        self.result: Future = Future()


class _RuntimeApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, executor: "HostRuntimeExecutor"):
        self.executor = executor
        super().__init__(("127.0.0.1", 0), _RuntimeApiHandler)


class _RuntimeApiHandler(BaseHTTPRequestHandler):
    """The Lambda Runtime API (next, response, error, init/error) for one bootstrap."""

    server: _RuntimeApi

    def log_message(self, fmt, *args):  # quiet: LocalStack logs the invocations
        LOG.debug("runtime api %s: " + fmt, self.server.executor.id, *args)

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        # aws-lambda-go streams its response (Transfer-Encoding: chunked).
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()  # the CRLF after each chunk
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        ex = self.server.executor
        if self.path != f"{_RUNTIME}/invocation/next":
            return self._reply(404)
        ex._ready.set()
        inv = ex._next()
        if inv is None:  # stopping
            return self._reply(410)
        p = inv.payload
        timeout_ms = int(ex.function_version.config.timeout) * 1000
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": p["invoke-id"],
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + timeout_ms),
            "Lambda-Runtime-Invoked-Function-Arn": p["invoked-function-arn"],
            "Lambda-Runtime-Trace-Id": p.get("trace-id") or "",
        }
        self._reply(200, (p.get("payload") or "").encode(), headers)

    def do_POST(self):
        ex = self.server.executor
        body = self._body()
        parts = self.path[len(_RUNTIME) :].strip("/").split("/")
        if parts == ["init", "error"]:
            ex._init_error = body or b"init error"
            ex._ready.set()
            return self._reply(202)
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            if ex._finish(parts[1], body, is_error=parts[2] == "error"):
                return self._reply(202)
            return self._reply(400, b'{"errorType":"InvalidRequestID"}')
        self._reply(404)


class HostRuntimeExecutor(RuntimeExecutor):
    """Runs one execution environment: one bootstrap process and its Runtime API."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self._queue: queue.Queue = queue.Queue()
        self._current: _Invocation | None = None
        self._ready = threading.Event()
        self._init_error: bytes | None = None
        self._server: _RuntimeApi | None = None
        self._proc: subprocess.Popen | None = None
        self._logs = bytearray()  # the last _LOG_LIMIT bytes of the bootstrap's output
        self._logs_total = 0  # bytes ever written, to find one invocation's lines
        self._logs_lock = threading.Lock()

    # --- Runtime API side
    def _next(self) -> _Invocation | None:
        inv = self._queue.get()
        self._current = inv
        return inv

    def _finish(self, request_id: str, body: bytes, is_error: bool) -> bool:
        inv = self._current
        if inv is None or inv.payload["invoke-id"] != request_id:
            return False
        self._current = None
        inv.result.set_result((body, is_error))
        return True

    def _pump(self, stream):
        for line in iter(stream.readline, b""):
            with self._logs_lock:
                self._logs += line
                self._logs_total += len(line)
                if len(self._logs) > _LOG_LIMIT:
                    del self._logs[: len(self._logs) - _LOG_LIMIT]
            LOG.debug("[lambda %s] %s", self.id, line.decode(errors="replace").rstrip())

    # --- RuntimeExecutor
    def start(self, env_vars: dict[str, str]) -> None:
        code = self.function_version.config.code
        if code is None:
            raise RuntimeError("host executor: only zip (custom runtime) functions are supported")
        task_root = str(code.get_unzipped_code_location())
        bootstrap = os.path.join(task_root, "bootstrap")
        if not os.path.isfile(bootstrap):
            raise RuntimeError(f"host executor: {bootstrap} missing (only provided.* runtimes)")
        os.chmod(bootstrap, 0o755)
        self._server = _RuntimeApi(self)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        env = {k: str(v) for k, v in env_vars.items()}
        env.update(
            AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{self._server.server_address[1]}",
            LAMBDA_TASK_ROOT=task_root,
            PATH=os.environ.get("PATH", "/usr/bin:/bin"),
        )
        self._proc = subprocess.Popen(
            [bootstrap], cwd=task_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        threading.Thread(target=self._pump, args=(self._proc.stdout,), daemon=True).start()
        deadline = time.time() + max(10, int(self.function_version.config.timeout))
        while not self._ready.wait(0.05):
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"host executor: bootstrap exited with {self._proc.returncode}: {self.get_logs()}"
                )
            if time.time() > deadline:
                raise RuntimeError("host executor: bootstrap did not ask for an invocation in time")
        if self._init_error is not None:
            raise RuntimeError(f"host executor: init error {self._init_error!r}")

    def stop(self) -> None:
        self._queue.put(None)
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        # LocalStack's own init reports here; this executor never does.
        return f"http://127.0.0.1:{config.GATEWAY_LISTEN[0].port}/_localstack_lambda/{self.id}"

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        with self._logs_lock:
            start = self._logs_total
        inv = _Invocation(payload)
        self._queue.put(inv)
        timeout = int(self.function_version.config.timeout) + 5
        body, is_error = inv.result.result(timeout=timeout)
        time.sleep(0.01)  # let the pump catch the last lines
        with self._logs_lock:
            n = min(self._logs_total - start, len(self._logs))
            logs = bytes(self._logs[len(self._logs) - n :]).decode(errors="replace")
        if is_error and not body:
            body = json.dumps({"errorMessage": "unknown error", "errorType": "Runtime.Unknown"}).encode()
        return InvocationResult(payload["invoke-id"], body, is_error=is_error, logs=logs)

    def get_logs(self) -> str:
        with self._logs_lock:
            return bytes(self._logs).decode(errors="replace")

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        # Unzip the code; no image to pull, no runtime-init to download.
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        return True
