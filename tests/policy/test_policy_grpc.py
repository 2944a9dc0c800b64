"""The pack on the real path: launched as the engine launches it, driven over the Analyzer gRPC protocol."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from policy_cases import BASELINES, FUNCTION, QUEUE, TABLE
from policy_testkit import PROVIDER_URN, STACK_URN, UNKNOWN, patched, program_run, recorded
from shared_pack import one_pack_per_stack  # noqa: F401 (the module's fixture, by name)

from offline.policy_client import (
    AnalyzeStream,
    PolicyConfigError,
    PolicyPackError,
    engine_struct,
    format_report,
    launch_pack,
    run_policy_pack,
)
from policy_pack import ALL_RULES, PACK_NAME, PACK_VERSION

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}

# ``run_policy_pack`` reuses one pack per launch settings here; the tests of launching call ``launch_pack``.
pytestmark = pytest.mark.usefixtures("one_pack_per_stack")


def _function(name: str = "fn", **changes: Any) -> Any:
    inputs = patched(BASELINES[FUNCTION], {"name": name, "loggingConfig.logGroup": f"/aws/lambda/{name}", **changes})
    return recorded(FUNCTION, name, inputs, outputs={**inputs, "arn": f"arn:aws:lambda:eu-west-1:1:function:{name}"})


def _log_group(function_name: str = "fn") -> Any:
    return recorded(
        "aws:cloudwatch/logGroup:LogGroup",
        f"{function_name}-logs",
        {"name": f"/aws/lambda/{function_name}", "retentionInDays": 7},
    )


def _mixed_run() -> Any:
    """A small stack: a compliant function, a function needing a remediation, bad table and queue."""
    return program_run(
        _function("good"),
        _log_group("good"),
        _function("untraced", **{"tracingConfig": {"mode": "PassThrough"}, "role": "arn:aws:iam::1:role/untraced"}),
        _log_group("untraced"),
        recorded(
            QUEUE,
            "plaintext",
            {"name": "plaintext", "sqsManagedSseEnabled": False},
            outputs={"name": "plaintext", "arn": "arn:aws:sqs:eu-west-1:1:plaintext"},
        ),
        recorded(
            TABLE,
            "orders",
            patched(BASELINES[TABLE], {"billingMode": "PROVISIONED", "readCapacity": 1, "writeCapacity": 1}),
        ),
        recorded(
            QUEUE, "orphan", {"name": "orphan"}, outputs={"name": "orphan", "arn": "arn:aws:sqs:eu-west-1:1:orphan"}
        ),
    )


@pytest.fixture(scope="module")
def mixed_report() -> Any:
    """One run of the pack over :func:`_mixed_run`."""
    return run_policy_pack(_mixed_run(), PACK_DIR)


def test_policy_grpc_analyzer_info_lists_every_rule_with_its_level_and_schema() -> None:
    with launch_pack(PACK_DIR, project="orderflow", stack="dev", config={}) as pack:
        info = pack.stub.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME and info.supportsConfig
    by_name = {policy.name: policy for policy in info.policies}
    assert set(by_name) == {rule.name for rule in ALL_RULES} | {"pack-notes", "pack-notes-stack"}
    levels = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}
    for rule in ALL_RULES:
        policy = by_name[rule.name]
        assert levels[policy.enforcementLevel] == rule.info.enforcement_level.value
        assert policy.description == rule.info.description
        assert list(policy.tags) == [rule.info.service, *rule.info.anchors]
        schema = json_format.MessageToDict(policy.configSchema.properties) if policy.HasField("configSchema") else {}
        assert set(schema) == {*rule.info.config, "waivers"}


def test_policy_grpc_reports_violations_on_the_resources_that_break_rules(mixed_report: Any) -> None:
    found = {(v.policy_name, v.resource_name, v.enforcement_level) for v in mixed_report.violations}
    assert ("dynamodb-on-demand", "orders", "mandatory") in found
    assert ("sqs-redrive-policy", "orphan", "mandatory") in found  # a stack rule, attributed to the queue
    assert ("idle-cost-budget", "orderflow-dev", "mandatory") in found  # the stack itself
    assert not [v for v in mixed_report.violations if v.resource_name == "good"]
    assert mixed_report.resources_analyzed == 9  # stack + default provider + 7 resources, nothing filtered


def test_policy_grpc_applies_remediations_before_analyze(mixed_report: Any) -> None:
    remediated = {(r.policy_name, r.urn.rsplit("::", 1)[-1]) for r in mixed_report.remediations}
    assert ("sqs-encryption-at-rest", "plaintext") in remediated
    assert not mixed_report.of_policy("sqs-encryption-at-rest")  # Analyze saw the fixed inputs
    plaintext = next(urn for urn in mixed_report.final_inputs if urn.endswith("::plaintext"))
    assert mixed_report.final_inputs[plaintext]["sqsManagedSseEnabled"] is True


def test_policy_grpc_tracing_is_never_switched_on_behind_the_programs_back(mixed_report: Any) -> None:
    # Active tracing on a role without X-Ray permissions makes AWS reject the function: report, never remediate.
    untraced = next(urn for urn in mixed_report.final_inputs if urn.endswith("::untraced"))
    assert mixed_report.final_inputs[untraced]["tracingConfig"]["mode"] == "PassThrough"
    [violation] = mixed_report.of_policy("lambda-tracing-active")
    assert violation.enforcement_level == "advisory"
    assert "xray:PutTraceSegments and xray:PutTelemetryRecords on the execution role" in violation.message
    orders = next(urn for urn in mixed_report.final_inputs if urn.endswith("::orders"))
    assert mixed_report.final_inputs[orders]["pointInTimeRecovery"] == {"enabled": True}


def test_policy_grpc_idle_cost_is_priced_from_the_pack(mixed_report: Any) -> None:
    assert mixed_report.idle_cost is not None
    assert mixed_report.idle_cost.total_usd == pytest.approx(0.57)  # 1 WCU ($0.4745) + 1 RCU ($0.0949)
    assert any("DynamoDB provisioned capacity" in line for line in mixed_report.idle_cost.lines)


def test_policy_grpc_format_report_has_the_cli_shape(mixed_report: Any) -> None:
    text = format_report(mixed_report, local_path="policy")
    lines = text.splitlines()
    assert lines[0] == "Policies:"
    assert lines[1] == f"    ❌ {PACK_NAME}@v{PACK_VERSION} (local: policy)"
    assert "        - [remediate]  sqs-encryption-at-rest  (1 resource)" in lines
    assert "        - [mandatory]  dynamodb-on-demand  (aws:dynamodb/table:Table: orders)" in lines
    violation_lines = [line for line in lines if line.startswith("        - [") and "[remediate]" not in line]
    keys = [(line.split("[")[1].split("]")[0], line.split("]  ")[1].split("  ")[0]) for line in violation_lines]
    assert keys == sorted(keys), "sorted by enforcement level, then policy name"
    assert any(line.startswith("Idle cost (zero traffic): $0.57/month") for line in lines)


def test_policy_grpc_unknown_values_are_advisory_cannot_evaluate() -> None:
    run = program_run(
        _function("pending", **{"tracingConfig": {"mode": UNKNOWN}, "timeout": UNKNOWN}), _log_group("pending")
    )
    report = run_policy_pack(run, PACK_DIR)
    pending = [v for v in report.violations if v.resource_name == "pending"]
    assert pending, "unknown values must be reported, not silently passed"
    assert all(v.enforcement_level == "advisory" for v in pending)
    assert any("cannot evaluate: timeout is not known until the update runs" in v.message for v in pending)
    assert not report.has_mandatory_violations


def test_policy_grpc_secrets_stay_secret_through_a_remediation() -> None:
    secret_tags = {"owner": {**SECRET_SIG, "value": "s3cr3t"}}
    inputs = patched(BASELINES[TABLE], {"pointInTimeRecovery": {"enabled": False}, "tags": secret_tags})
    report = run_policy_pack(program_run(recorded(TABLE, "secretive", inputs)), PACK_DIR)
    urn = next(urn for urn in report.final_inputs if urn.endswith("::secretive"))
    assert report.final_inputs[urn]["tags"]["owner"] == {**SECRET_SIG, "value": "s3cr3t"}
    assert report.final_inputs[urn]["pointInTimeRecovery"] == {"enabled": True}


def test_policy_grpc_every_message_ends_with_the_ids_and_the_real_version(mixed_report: Any) -> None:
    assert mixed_report.violations
    for violation in mixed_report.violations:
        assert violation.message.rstrip().endswith(f"{PACK_NAME}@{PACK_VERSION}]"), violation.message
        assert violation.pack_version == PACK_VERSION


def test_policy_grpc_config_changes_levels_and_thresholds() -> None:
    run = program_run(
        _function("fn"),
        _log_group("fn"),
        recorded(TABLE, "orders", patched(BASELINES[TABLE], {"deletionProtectionEnabled": False})),
    )
    default = run_policy_pack(run, PACK_DIR)
    assert [v.enforcement_level for v in default.of_policy("dynamodb-deletion-protection")] == ["advisory"]
    configured = run_policy_pack(
        run,
        PACK_DIR,
        {"dynamodb-deletion-protection": "mandatory", "lambda-reserved-concurrency": {"maximum": 2}},
    )
    assert [v.enforcement_level for v in configured.of_policy("dynamodb-deletion-protection")] == ["mandatory"]
    assert any(
        "outside the configured range 1..2" in v.message for v in configured.of_policy("lambda-reserved-concurrency")
    )
    disabled = run_policy_pack(run, PACK_DIR, {"all": "disabled"})
    assert disabled.violations == []
    # The module's pack was reused for all three: each run's Configure replaced the one before.
    assert run_policy_pack(run, PACK_DIR) == default


def test_policy_grpc_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    run = program_run()
    with pytest.raises(PolicyConfigError, match=r"lambda-reserved-concurrency\.maximum"):
        run_policy_pack(run, PACK_DIR, {"lambda-reserved-concurrency": {"maximum": "lots"}})
    with pytest.raises(PolicyConfigError, match="no-such-rule: the pack has no policy"):
        run_policy_pack(run, PACK_DIR, {"no-such-rule": "mandatory"})
    with pytest.raises(PolicyConfigError, match="not an enforcement level"):
        run_policy_pack(run, PACK_DIR, {"idle-cost-budget": "loud"})
    bad_file = tmp_path / "bad.json"
    bad_file.write_text("{not json")
    with pytest.raises(PolicyConfigError, match="is not valid JSON"):
        run_policy_pack(run, PACK_DIR, bad_file)


def test_policy_grpc_stack_config_files_are_valid_for_the_pack() -> None:
    for stack in ("dev", "prod", "adopt"):
        report = run_policy_pack(program_run(), PACK_DIR, PACK_DIR / "config" / f"{stack}.json")
        assert report.violations == [], stack
        header = format_report(report, local_path="policy").splitlines()[1]
        assert header == f"    ✅ {PACK_NAME}@v{PACK_VERSION} (local: policy)"


def test_policy_grpc_pack_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    run = program_run()
    with pytest.raises(PolicyPackError, match=r"has no PulumiPolicy\.yaml"):
        run_policy_pack(run, tmp_path)
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack')\n")
    with pytest.raises(PolicyPackError, match=r"(?s)did not print its port.*broken pack"):
        run_policy_pack(run, tmp_path)


def test_policy_engine_struct_resolves_references_and_skips_internal_keys() -> None:
    source = struct_pb2.Struct()
    source.update(
        {
            "__defaults": ["name"],
            "role": {
                "4dabf18193072939515e22adb298388d": "5cf8f73096256a8f31e491e813e4eb8e",
                "urn": "urn:role",
                "id": "role-id",
            },
            "parentRef": {
                "4dabf18193072939515e22adb298388d": "5cf8f73096256a8f31e491e813e4eb8e",
                "urn": "urn:component",
            },
            "nested": [{"out": {"4dabf18193072939515e22adb298388d": "d0e6a833031e9bbcd3f4e8bde6ca49a4", "value": 5}}],
        }
    )
    converted = json_format.MessageToDict(engine_struct(source, {}, skip_internal_keys=True))
    assert converted == {"role": "role-id", "parentRef": "urn:component", "nested": [{"out": 5}]}
    kept = json_format.MessageToDict(engine_struct(source, {}, skip_internal_keys=False))
    assert "__defaults" in kept


def test_policy_grpc_sends_the_default_provider_record(mixed_report: Any) -> None:
    assert PROVIDER_URN in mixed_report.final_inputs and STACK_URN in mixed_report.final_inputs
    assert mixed_report.final_inputs[PROVIDER_URN] == {"region": "eu-west-1", "version": "7.51.1"}


def _engine(run: Any) -> dict[str, Any]:
    return {"project": run.project, "stack": run.stack, "config": run.config, "dry_run": run.preview}


def test_policy_grpc_streamed_analyze_calls_report_what_calls_after_the_program_do(mixed_report: Any) -> None:
    run = _mixed_run()
    with launch_pack(PACK_DIR, **_engine(run)) as pack:
        stream = AnalyzeStream(pack, None, {**_engine(run), "organization": "organization"})
        for record in reversed(run.resources):  # threads of the program may register in any order
            stream.submit(record)
        streamed = run_policy_pack(run, PACK_DIR, stream=stream)
    assert streamed.remediations and streamed.remediations == mixed_report.remediations
    assert streamed.violations == mixed_report.violations
    assert streamed.final_inputs == mixed_report.final_inputs
    assert format_report(streamed) == format_report(mixed_report)


def test_policy_grpc_stream_names_the_call_a_pack_hangs_on(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (tmp_path / "__main__.py").write_text(
        "import time\n"
        "from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy\n"
        "def hang(args, report_violation):\n"
        "    time.sleep(120)\n"
        "PolicyPack('hangs', [ResourceValidationPolicy(name='hang', description='Never answers.', validate=hang)],\n"
        "           enforcement_level=EnforcementLevel.ADVISORY)\n"
    )
    run = program_run(_log_group())
    with launch_pack(tmp_path, **_engine(run)) as pack:
        # The set-up has its own deadline (a loaded machine may start the worker in over 2 s): this one is Analyze's.
        stream = AnalyzeStream(pack, None, {**_engine(run), "organization": "organization"}, timeout_seconds=2)
        for record in run.resources:
            stream.submit(record)
        with pytest.raises(
            PolicyPackError, match=r"did not answer within 2 s: still waiting on Remediate/Analyze of urn:"
        ):
            run_policy_pack(run, tmp_path, stream=stream)


def test_policy_grpc_stream_names_the_set_up_when_it_misses_its_own_deadline() -> None:
    run = _mixed_run()
    with launch_pack(PACK_DIR, **_engine(run)) as pack:
        # No worker process starts and answers the set-up calls within 1 ms: the set-up deadline is the one missed.
        engine = {**_engine(run), "organization": "organization"}
        stream = AnalyzeStream(pack, None, engine, setup_timeout_seconds=0.001)
        for record in run.resources:
            stream.submit(record)
        with pytest.raises(PolicyPackError, match=r"within 0.001 s: still waiting on the pack's set-up calls"):
            stream.finish()


def test_policy_grpc_stream_raises_a_config_error_of_its_worker_as_is() -> None:
    run = _mixed_run()
    with launch_pack(PACK_DIR, **_engine(run)) as pack:
        config = {"lambda-reserved-concurrency": {"maximum": "ten"}}
        stream = AnalyzeStream(pack, config, {**_engine(run), "organization": "organization"})
        for record in run.resources:
            stream.submit(record)
        with pytest.raises(PolicyConfigError, match=r"lambda-reserved-concurrency\.maximum: 'ten' is not of type"):
            stream.finish()


def test_policy_grpc_stream_names_a_pack_that_went_away() -> None:
    run = _mixed_run()
    with launch_pack(PACK_DIR, **_engine(run)) as pack:
        pack.stub.GetAnalyzerInfo(empty_pb2.Empty())
        pack.process.kill()
        pack.process.wait()
        stream = AnalyzeStream(pack, None, {**_engine(run), "organization": "organization"})
        stream.submit(run.resources[0])
        # The worker's gRPC error does not pickle: its type and message come back in a PolicyPackError.
        with pytest.raises(PolicyPackError, match="RpcError"):
            stream.finish()


def test_policy_grpc_stream_says_when_its_worker_stopped() -> None:
    run = _mixed_run()
    with launch_pack(PACK_DIR, **_engine(run)) as pack:
        stream = AnalyzeStream(pack, None, {**_engine(run), "organization": "organization"})
        deadline = time.monotonic() + 60
        while stream._worker is None and time.monotonic() < deadline:  # started once the pack listens
            time.sleep(0.01)
        assert stream._worker is not None
        stream._worker.kill()
        for record in run.resources:
            stream.submit(record)
        with pytest.raises(PolicyPackError, match=r"the Analyze worker of .* stopped"):
            stream.finish()
