"""The policy pack's process, started the way the Pulumi engine starts a Python pack.

``python -u -m pulumi.policy <engine-address> .`` in the pack folder, with ``PULUMI_PROJECT``, ``PULUMI_STACK``,
``PULUMI_DRY_RUN``, ``PULUMI_CONFIG`` and ``PULUMI_ORGANIZATION`` set; the pack prints its gRPC port first.

Apart from :mod:`offline.policy_client` (the Analyzer protocol) because starting it needs neither gRPC nor the
Pulumi SDK: the offline plan starts the pack before importing them, so the pack imports its rules meanwhile.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import grpc
    from pulumi.runtime.proto import analyzer_pb2_grpc

STARTUP_TIMEOUT_SECONDS: Final = 60.0
"""How long the pack may take to print its port and accept a connection."""
MAX_MESSAGE_BYTES: Final = 400 * 1024 * 1024
"""The largest answer a client of the pack accepts (an ``AnalyzeStack`` request of a large stack is big)."""


class PolicyPackError(Exception):
    """The pack failed to start, or a call to it failed."""


class PolicyPackProcess:
    """A started pack; its stub connects on first use (use :func:`launch_pack`).

    Starting the process and connecting are apart so that the pack can import its rules while the caller
    still works (the offline plan runs the program meanwhile).
    """

    def __init__(self, process: subprocess.Popen[bytes], pack_dir: Path) -> None:
        self.process = process
        self.pack_dir = pack_dir
        self.channel: grpc.Channel | None = None
        self.port = 0
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        """The Analyzer stub, connected once the pack has printed its port.

        Raises
        ------
        PolicyPackError
            When the pack exits or prints no port (its stderr is in the message).
        """
        if self._stub is None:
            import grpc
            from pulumi.runtime.proto import analyzer_pb2_grpc

            assert self.process.stdout is not None
            first_line = self.process.stdout.readline().decode().strip()
            if not first_line.isdigit():
                self.process.kill()
                _, stderr = self.process.communicate(timeout=STARTUP_TIMEOUT_SECONDS)
                raise PolicyPackError(
                    f"policy pack in {self.pack_dir} did not print its port (got {first_line!r}):\n{stderr.decode()}"
                )
            self.port = int(first_line)
            self.channel = grpc.insecure_channel(
                f"127.0.0.1:{self.port}", options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]
            )
            grpc.channel_ready_future(self.channel).result(timeout=STARTUP_TIMEOUT_SECONDS)
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        return self._stub


@contextmanager
def launch_pack(
    pack_dir: Path,
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    dry_run: bool = True,
    organization: str = "organization",
    python: str = sys.executable,
    engine_address: str = "127.0.0.1:0",
) -> Iterator[PolicyPackProcess]:
    """Start the pack as the engine does and yield it (its stub connects on first use); stop it on exit.

    Raises
    ------
    PolicyPackError
        When the pack exits or prints no port within a minute (its stderr is in the message).
    """
    env = {
        **os.environ,
        "PULUMI_PROJECT": project,
        "PULUMI_STACK": stack,
        "PULUMI_DRY_RUN": "true" if dry_run else "false",
        "PULUMI_ORGANIZATION": organization,
    }
    if config:
        env["PULUMI_CONFIG"] = json.dumps(dict(config))
    process = subprocess.Popen(
        [python, "-u", "-m", "pulumi.policy", engine_address, "."],
        cwd=pack_dir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pack = PolicyPackProcess(process, Path(pack_dir))
    try:
        yield pack
    finally:
        if pack.channel is not None:
            pack.channel.close()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
