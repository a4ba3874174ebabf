"""Run moto's server handling one request at a time.

moto_server serves requests on threads, and moto's DynamoDB transactions are
not guarded by a lock: under concurrent requests a TransactWriteItems can
crash ("dictionary changed size during iteration" while it snapshots the
table) or interleave with another. Real DynamoDB serialises conflicting
transactions, so the test suite runs moto serially to emulate that.

Usage: moto_serial.py HOST PORT
"""
import os
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
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
