"""The process that sends a started pack its ``Remediate`` and ``Analyze`` calls for an :class:`AnalyzeStream`.

:class:`offline.policy_client.AnalyzeStream` starts ``python -m offline.analyze_worker`` once the pack has
printed its port, so the calls' own work (requests built, gRPC round trips, answers read: about 0.6 ms per
resource) runs on another core than the program, which the plan waits for. Messages are pickles, one after the
other, on stdin and stdout:

- in: the set-up (``port``, ``pack_dir``, ``policy_config``, ``engine``: what :func:`configure` needs), then lists
  of records in registration order, then ``None``;
- out: ``("info", serialized AnalyzerInfo)`` once the pack is configured, then
  ``("analyzed", [(urn, AnalyzedResource), ...])`` for each list of records, and last ``("done",)`` or
  ``("error", exception)``.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
from typing import IO, Any

import grpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from offline.pack_process import MAX_MESSAGE_BYTES, PolicyPackError
from offline.policy_client import (
    AnalyzedResource,
    analyze_resource,
    configure,
    load_policy_config,
    pack_version,
)
from offline.recording import RecordedResource


def _send(out: IO[bytes], message: tuple[Any, ...]) -> None:
    pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


def _portable(error: BaseException) -> BaseException:
    """``error`` itself when it survives a pickle round trip, else a :class:`PolicyPackError` saying what it was."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # a gRPC error holds its call state, which does not pickle
        return PolicyPackError(f"{type(error).__name__}: {error}")
    return error


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """Configure the pack named by the first request, then analyze every record sent, answering on ``answers``."""
    setup = pickle.load(requests)
    channel = grpc.insecure_channel(
        f"127.0.0.1:{setup['port']}", options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]
    )
    try:
        stub = analyzer_pb2_grpc.AnalyzerStub(channel)
        info = configure(stub, policy_config=load_policy_config(setup["policy_config"]), **setup["engine"])
        _send(answers, ("info", info.SerializeToString()))  # its class pickles under a name that does not import
        version = pack_version(setup["pack_dir"]) or info.version
        by_urn: dict[str, RecordedResource] = {}
        ids: dict[str, str] = {}
        providers: dict[str, analyzer_pb2.AnalyzerProviderResource] = {}
        while (records := pickle.load(requests)) is not None:
            analyzed: list[tuple[str, AnalyzedResource]] = []
            for record in records:
                by_urn[record.urn], ids[record.urn] = record, record.id
                analyzed.append((record.urn, analyze_resource(stub, record, by_urn, ids, version, providers)))
            _send(answers, ("analyzed", analyzed))
        _send(answers, ("done",))
    except Exception as error:  # handed to the stream, which raises it in finish()
        _send(answers, ("error", _portable(error)))
    finally:
        channel.close()


if __name__ == "__main__":
    gc.disable()  # a short process whose objects live until it ends, as offline.preview's
    serve(sys.stdin.buffer, sys.stdout.buffer)
    sys.stderr.flush()
    os._exit(0)
