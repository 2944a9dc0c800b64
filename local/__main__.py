"""``python -m local`` (``make local``): the whole order system on this machine, until Ctrl-C.

It prints the page's URL and the demo users' sign-in. Options: ``--port`` (the page; the sign-in and the
MQTT broker take the next two unless given), ``--pace`` (seconds each step takes, so a person sees each
status), ``--verbose`` (the functions' own logs), ``--ready-file`` (write the URLs and users as JSON once
serving, for scripts and tests).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from websockets.exceptions import ConnectionClosed

from local.system import Ports, running_system


def free_port(host: str) -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def check_ports(host: str, ports: dict[str, int]) -> str | None:
    """A sentence naming the first taken port (and its option), or None when all are free."""
    for option, port in ports.items():
        if port == 0:
            continue
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                reason = (
                    "is already in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error.strerror})"
                )
                return (
                    f"port {port} on {host} {reason}: stop what uses it, or choose another port: "
                    f'make local ARGS="{option} N"'
                )
    return None


class ClosedByBrowser(logging.Filter):
    """Drops the records of a connection the browser closed (a reload, a closed tab): ordinary, not errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record whose exception, or one it was raised from, is such a close."""
        error = record.exc_info[1] if record.exc_info else None
        # A reload during the opening handshake reaches the broker as a closed connection without a close frame
        # (ConnectionClosedError), or as an invalid handshake raised from the EOF it read.
        while error is not None:
            if isinstance(error, ConnectionError | ConnectionClosed | EOFError):
                return False
            error = error.__cause__
        return True


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; 2 when a port is taken."""
    parser = argparse.ArgumentParser(prog="make local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="the page (default 8000; 0 picks a free port)")
    parser.add_argument("--sign-in-port", type=int, help="the local sign-in (default: the page's port + 1)")
    parser.add_argument("--mqtt-port", type=int, help="the MQTT broker's WebSocket (default: the page's port + 2)")
    parser.add_argument("--pace", type=float, default=0.25, help="seconds each function call takes (default 0.25)")
    parser.add_argument("--verbose", action="store_true", help="show the functions' own logs")
    parser.add_argument("--ready-file", type=Path, help="write the URLs and users here (JSON) once serving")
    args = parser.parse_args(argv)

    def default(given: int | None, offset: int) -> int:
        if given is not None:
            return given
        return 0 if args.port == 0 else args.port + offset

    ports = {
        "--port": args.port,
        "--sign-in-port": default(args.sign_in_port, 1),
        "--mqtt-port": default(args.mqtt_port, 2),
    }
    problem = check_ports(args.host, ports)
    if problem:
        print(f"make local: {problem}", file=sys.stderr)
        return 2
    mqtt_port = ports["--mqtt-port"] or free_port(args.host)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)-12s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("amqtt", "transitions", "moto", "botocore", "websockets", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING if args.verbose else logging.ERROR)
    if not args.verbose:
        # A page reload closes its sockets mid-reply: the broker's transport reports that as an error. On the
        # console's handler, since a logger's own filter does not see its children's records (websockets.server).
        for handler in logging.getLogger().handlers:
            handler.addFilter(ClosedByBrowser())
        # Powertools reads this when it flushes metrics (each invocation), not at the function's init: set here,
        # the functions' CloudWatch metric (EMF) lines stay off the console.
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"

    stop = threading.Event()

    def interrupted(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    with running_system(
        host=args.host,
        ports=Ports(page=args.port, sign_in=ports["--sign-in-port"], mqtt=mqtt_port),
        pace_seconds=args.pace,
        verbose=args.verbose,
    ) as running:
        summary = running.summary()
        lines = [
            "",
            f"orderflow is running locally (ready in {time.monotonic() - started:.1f} s).",
            f"  Open {summary['url']}",
            *(f"  Sign in as {user['email']} / {user['password']}" for user in summary["users"]),
            f"  (sign-in {summary['signInUrl']}, MQTT {summary['mqttUrl']}; Ctrl-C stops everything)",
            "",
        ]
        print("\n".join(lines), flush=True)
        if args.ready_file:
            args.ready_file.write_text(json.dumps(summary))
        stop.wait()
        print("Stopping…", flush=True)
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
