"""Run moto's server handling one request at a time.

moto_server serves requests on threads, and moto's DynamoDB transactions are
not guarded by a lock: under concurrent requests a TransactWriteItems can
crash ("dictionary changed size during iteration" while it snapshots the
table) or interleave its writes with another's. The lock below only keeps
moto consistent. It is not how DynamoDB behaves: real DynamoDB *cancels* a
transaction that conflicts with one in flight on the same item
(TransactionCanceledException, reason TransactionConflict; the SDK does not
retry it). The store retries such conflicts itself, and the fault-injection
tests produce them on purpose, since this server never will.

Each test binary starts its own server (infra/testkit/testenv), so the lock only
serialises one package's requests.

Usage: moto_serial.py HOST PORT [--exit-on-stdin-eof]

--exit-on-stdin-eof stops the server when its stdin reaches end of file, so
that it dies with the process that started it through a pipe.
"""
import os
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app


def exit_on_stdin_eof() -> None:
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def main() -> None:
    args = sys.argv[1:]
    watch = "--exit-on-stdin-eof" in args
    args = [a for a in args if a != "--exit-on-stdin-eof"]
    if len(args) != 2:
        sys.exit("usage: moto_serial.py HOST PORT [--exit-on-stdin-eof]")
    host, port = args[0], int(args[1])
    if watch:
        threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ, start_response):
        # Connections stay concurrent (keep-alive works); handling is one at a time.
        with lock:
            return list(app(environ, start_response))

    run_simple(host, port, serial, threaded=True, use_reloader=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
