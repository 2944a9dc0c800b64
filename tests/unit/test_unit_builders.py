"""Pure builders of the components, tested without Pulumi running."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest

from components.alarms import DEAD_LETTER_DEPTH, FUNCTION_ERRORS, alarm_plan
from components.bucket import lifecycle_rules
from components.event_bus import (
    RuleArgs,
    RuleTarget,
    bus_policy,
    invoke_role_statements,
    needs_invoke_role,
    pattern_put_condition,
    rule_arn,
)
from components.function import FunctionArgs, package_files, with_overrides
from components.http_api import access_log_format, parse_route_key, route_child_name, route_source_arn
from components.identity import issuer_url
from components.layer import (
    build_key,
    compile_command,
    layer_distributions,
    normalize_name,
    pinned_versions,
    pip_install_command,
    runtime_python,
)
from components.policies import (
    PolicyStatementError,
    assume_role_policy,
    deny_insecure_transport,
    destination_send_statement,
    validate_statements,
)
from components.queue import QueueSender, consumer_visibility_timeout, queue_policy, redrive_policy
from components.realtime_channel import publish_statement
from components.table import GlobalIndexArgs, KeyAttribute, TableArgs, attribute_definitions, seed_item_suffix
from components.topic import TopicPublisher, subscription_redrive_policy, topic_policy


# ---- IAM ----------------------------------------------------------------------------------------
def test_validate_statements_accepts_named_actions_and_resources() -> None:
    validate_statements(
        [{"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "arn:aws:sqs:eu-west-1:1:q"}], "f"
    )


@pytest.mark.parametrize("action", ["*", "sqs:*", "dynamodb:Get*"])
def test_validate_statements_rejects_wildcard_actions(action: str) -> None:
    with pytest.raises(PolicyStatementError, match=r"fn: statement 0 uses wildcard action"):
        validate_statements([{"Effect": "Allow", "Action": action, "Resource": "arn:aws:sqs:eu-west-1:1:q"}], "fn")


def test_validate_statements_rejects_star_resource_where_aws_has_a_narrower_one() -> None:
    with pytest.raises(PolicyStatementError, match="dynamodb:PutItem on '\\*'"):
        validate_statements([{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}], "fn")


def test_validate_statements_allows_star_resource_for_actions_without_resource_types() -> None:
    validate_statements([{"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"}], "fn")


def test_validate_statements_rejects_statement_without_action() -> None:
    with pytest.raises(PolicyStatementError, match="no Action"):
        validate_statements([{"Effect": "Allow", "Resource": "arn:aws:s3:::b"}], "fn")


def test_assume_role_policy_scopes_to_source_account_when_given() -> None:
    document = assume_role_policy("states.amazonaws.com", source_account="123456789012")
    (statement,) = document["Statement"]
    assert statement["Principal"] == {"Service": "states.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert "Condition" not in assume_role_policy("lambda.amazonaws.com")["Statement"][0]


def test_deny_insecure_transport_denies_every_principal_without_tls() -> None:
    statement = deny_insecure_transport("sqs:*", ["arn:q"])
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == "arn:q"
    assert deny_insecure_transport("s3:*", ["arn:b", "arn:b/*"])["Resource"] == ["arn:b", "arn:b/*"]


@pytest.mark.parametrize(
    ("service", "action"),
    [
        ("sqs", "sqs:SendMessage"),
        ("sns", "sns:Publish"),
        ("lambda", "lambda:InvokeFunction"),
        ("events", "events:PutEvents"),
    ],
)
def test_destination_send_statement_per_service(service: str, action: str) -> None:
    assert destination_send_statement("arn:x", service)["Action"] == action


def test_destination_send_statement_rejects_unknown_service() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        destination_send_statement("arn:x", "s3")


# ---- Function -----------------------------------------------------------------------------------
def test_package_files_keeps_sources_and_data_only(tmp_path: Path) -> None:
    (tmp_path / "fn" / "__pycache__").mkdir(parents=True)
    (tmp_path / "fn" / "app.py").write_text("x = 1\n")
    (tmp_path / "fn" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "catalogue.json").write_text("[]")
    (tmp_path / "shared" / "notes.txt").write_text("not packaged")
    assert sorted(package_files(tmp_path, ["fn", "shared"])) == ["fn/app.py", "shared/catalogue.json"]


def test_package_files_names_a_missing_package(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="'nope'"):
        package_files(tmp_path, ["nope"])


# ---- Layer --------------------------------------------------------------------------------------
def test_pip_command_selects_wheels_for_the_target_platform(tmp_path: Path) -> None:
    command = pip_install_command(tmp_path / "r.txt", tmp_path / "out", "arm64", "python3.13")
    assert "--only-binary=:all:" in command
    assert command[command.index("--python-version") + 1] == "3.13"
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms and all(p.endswith("aarch64") for p in platforms)


def test_build_key_changes_with_requirements_and_platform(tmp_path: Path) -> None:
    requirements = tmp_path / "r.txt"
    requirements.write_text("a==1\n")
    first = build_key(requirements, "arm64", "python3.13")
    assert first != build_key(requirements, "x86_64", "python3.13")
    requirements.write_text("a==2\n")
    assert first != build_key(requirements, "arm64", "python3.13")


def test_build_key_changes_with_each_option_and_keeps_the_default_builds_key(tmp_path: Path) -> None:
    requirements = tmp_path / "r.txt"
    requirements.write_text("a==1\n")
    default = build_key(requirements, "arm64", "python3.13")
    assert default == build_key(requirements, "arm64", "python3.13", resolve_dependencies=True, compile_bytecode=False)
    keys = {
        default,
        build_key(requirements, "arm64", "python3.13", resolve_dependencies=False),
        build_key(requirements, "arm64", "python3.13", compile_bytecode=True),
        build_key(requirements, "arm64", "python3.13", resolve_dependencies=False, compile_bytecode=True),
    }
    assert len(keys) == 4


def test_pip_command_installs_exactly_the_pins_without_dependency_resolution(tmp_path: Path) -> None:
    assert "--no-deps" not in pip_install_command(tmp_path / "r.txt", tmp_path / "out", "arm64", "python3.13")
    command = pip_install_command(
        tmp_path / "r.txt", tmp_path / "out", "arm64", "python3.13", resolve_dependencies=False
    )
    assert "--no-deps" in command and "--no-compile" in command


def test_bytecode_is_hash_based_unchecked_and_names_the_path_lambda_extracts_to(tmp_path: Path) -> None:
    command = compile_command(tmp_path / "python")
    assert command[1:3] == ["-m", "compileall"]
    assert command[command.index("--invalidation-mode") + 1] == "unchecked-hash"
    assert command[command.index("-s") + 1] == str(tmp_path / "python")
    assert command[command.index("-p") + 1] == "/opt/python"


def test_compiled_layer_bytecode_is_used_whatever_the_sources_times(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    package = tmp_path / "python" / "probe"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 'compiled'\n")
    subprocess.run(compile_command(tmp_path / "python"), check=True)
    (pyc,) = (package / "__pycache__").glob(f"__init__.{sys.implementation.cache_tag}.pyc")
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01  # hash-based, source never checked
    assert b"/opt/python/probe/__init__.py" in pyc.read_bytes()  # tracebacks name where Lambda extracts it
    # The archive does not keep files' times; even a changed source does not make Python recompile.
    (package / "__init__.py").write_text("VALUE = 'recompiled'\n")
    os.utime(package / "__init__.py", (0, 0))
    imported = subprocess.run(
        [sys.executable, "-c", "import probe; print(probe.VALUE)"],
        env={**os.environ, "PYTHONPATH": str(tmp_path / "python"), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "compiled"


def test_compiling_bytecode_for_another_python_is_refused(tmp_path: Path) -> None:
    from components import layer

    requirements = tmp_path / "r.txt"
    requirements.write_text("a==1\n")
    with pytest.raises(ValueError, match=r"bytecode for python3\.9 must be compiled by that Python, not by Python 3\."):
        layer.build_layer_directory(requirements, "arm64", "python3.9", tmp_path / "build", compile_bytecode=True)


def test_runtime_python_reads_the_version_of_a_python_runtime() -> None:
    assert runtime_python("python3.13") == "3.13"
    with pytest.raises(ValueError, match="not a Python runtime"):
        runtime_python("nodejs22.x")


def test_pinned_versions_reads_every_pin_by_canonical_name(tmp_path: Path) -> None:
    requirements = tmp_path / "r.txt"
    requirements.write_text(
        "# comment\n\nPyJWT[crypto]==2.15.1\naws_lambda.Powertools[tracer, parser] == 3.37.0  # why\n"
    )
    assert pinned_versions(requirements) == {"pyjwt": "2.15.1", "aws-lambda-powertools": "3.37.0"}
    assert normalize_name("Typing_Extensions") == "typing-extensions"


@pytest.mark.parametrize("line", ["pydantic>=2", "pydantic", "-r other.txt", "pydantic==2.14.3; python_version<'3.14'"])
def test_pinned_versions_refuses_a_line_that_is_not_one_pinned_version(tmp_path: Path, line: str) -> None:
    requirements = tmp_path / "r.txt"
    requirements.write_text(f"jmespath==1.1.0\n{line}\n")
    with pytest.raises(ValueError, match=r"r\.txt:2: expected one pinned version"):
        pinned_versions(requirements)


def test_layer_distributions_reads_names_and_versions_from_the_built_layer(tmp_path: Path) -> None:
    for name, version in (("pydantic_core", "2.50.4"), ("PyJWT", "2.15.1")):
        info = tmp_path / "python" / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nBody\n")
    assert layer_distributions(tmp_path) == {"pydantic-core": "2.50.4", "pyjwt": "2.15.1"}


# ---- Queue --------------------------------------------------------------------------------------
def test_visibility_timeout_is_six_times_the_consumer_timeout_plus_the_batching_window() -> None:
    assert consumer_visibility_timeout(10, 1) == 61
    assert consumer_visibility_timeout(30, 0) == 180


@pytest.mark.parametrize(("timeout", "window"), [(0, 1), (10, -1)])
def test_visibility_timeout_rejects_impossible_inputs(timeout: int, window: int) -> None:
    with pytest.raises(ValueError):
        consumer_visibility_timeout(timeout, window)


def test_redrive_policy_names_the_dlq_and_receive_count() -> None:
    assert json.loads(redrive_policy("arn:dlq", 5)) == {"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 5}
    with pytest.raises(ValueError):
        redrive_policy("arn:dlq", 0)


def test_queue_policy_is_tls_only_and_scopes_each_sender_to_its_source() -> None:
    document = queue_policy("arn:q", [QueueSender("events.amazonaws.com", "arn:rule")])
    deny, allow = document["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": "arn:rule"}}


# ---- Topic --------------------------------------------------------------------------------------
def test_topic_policy_is_tls_only_and_scopes_publishers() -> None:
    document = topic_policy("arn:t", [TopicPublisher("cloudwatch.amazonaws.com", "arn:alarm:*")])
    deny, allow = document["Statement"]
    assert deny["Action"] == "sns:Publish" and deny["Effect"] == "Deny"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": "arn:alarm:*"}}
    assert json.loads(subscription_redrive_policy("arn:dlq")) == {"deadLetterTargetArn": "arn:dlq"}


# ---- Table and bucket ---------------------------------------------------------------------------
def test_attribute_definitions_cover_table_and_index_keys_once() -> None:
    args = TableArgs(
        hash_key=KeyAttribute("orderId"),
        global_indexes=[GlobalIndexArgs("byCustomer", KeyAttribute("customerId"), KeyAttribute("createdAt"))],
    )
    assert attribute_definitions(args) == [
        {"name": "orderId", "type": "S"},
        {"name": "customerId", "type": "S"},
        {"name": "createdAt", "type": "S"},
    ]


def test_attribute_definitions_reject_conflicting_or_unknown_types() -> None:
    with pytest.raises(ValueError, match="two types"):
        attribute_definitions(TableArgs(hash_key=KeyAttribute("k"), range_key=KeyAttribute("k", "N")))
    with pytest.raises(ValueError, match="unknown type"):
        attribute_definitions(TableArgs(hash_key=KeyAttribute("k", "X")))


def test_seed_item_suffix_is_stable_and_urn_safe() -> None:
    args = TableArgs(hash_key=KeyAttribute("pk"))
    assert seed_item_suffix({"pk": {"S": "SKU#MUG-BLK"}}, args) == "sku-mug-blk"
    with pytest.raises(ValueError, match="lacks key attribute 'pk'"):
        seed_item_suffix({"sku": {"S": "x"}}, args)


def test_lifecycle_rules_expire_old_versions_and_abandoned_uploads() -> None:
    rules = {rule["id"]: rule for rule in lifecycle_rules(30, 7)}
    assert rules["expire-noncurrent-versions"]["noncurrent_version_expiration"] == {"noncurrent_days": 30}
    assert rules["abort-incomplete-multipart-uploads"]["abort_incomplete_multipart_upload"] == {
        "days_after_initiation": 7
    }
    with pytest.raises(ValueError):
        lifecycle_rules(0, 7)


# ---- Event bus ----------------------------------------------------------------------------------
def test_rule_arn_carries_the_bus_name_except_on_the_default_bus() -> None:
    assert rule_arn("eu-west-1", "1", "orders", "orders-audit") == "arn:aws:events:eu-west-1:1:rule/orders/orders-audit"
    assert rule_arn("eu-west-1", "1", "default", "fwd") == "arn:aws:events:eu-west-1:1:rule/fwd"
    assert rule_arn("cn-north-1", "1", "orders", "r", "aws-cn") == "arn:aws-cn:events:cn-north-1:1:rule/orders/r"


def test_bus_policy_names_accounts_never_star() -> None:
    (statement,) = bus_policy("arn:bus", "111111111111", ["222222222222"])["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]}


def test_bus_policy_refuses_reserved_detail_types_with_another_source() -> None:
    allow, deny = bus_policy("arn:bus", "111111111111", [], {"shop.orders": ["Placed", "Shipped"]})["Statement"]

    assert allow["Effect"] == "Allow"
    assert deny == {
        "Sid": "DenyForeignSourceForReservedDetailTypes0",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "events:PutEvents",
        "Resource": "arn:bus",
        "Condition": {
            "StringEquals": {"events:detail-type": ["Placed", "Shipped"]},
            "StringNotEquals": {"events:source": "shop.orders"},
        },
    }
    with pytest.raises(ValueError, match=r"shop\.orders"):
        bus_policy("arn:bus", "111111111111", [], {"shop.orders": []})


def test_invoke_role_allows_exactly_its_state_machine_and_bus_targets() -> None:
    pattern = {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": ["b"]}}}
    statements = invoke_role_statements(
        {
            "start": RuleArgs({"source": ["x"]}, {"sm": RuleTarget("sfn", "arn:sm")}),
            "forward-receipts": RuleArgs(pattern, {"bus": RuleTarget("bus", "arn:bus")}),
            "notify": RuleArgs({"source": ["x"]}, {"fn": RuleTarget("lambda", "arn:fn")}),
        }
    )
    assert {s["Action"]: s["Resource"] for s in statements} == {
        "states:StartExecution": ["arn:sm"],
        "events:PutEvents": ["arn:bus"],
    }
    # Forwarding puts on the target bus only what the rule's pattern matches.
    [forward] = [s for s in statements if s["Action"] == "events:PutEvents"]
    assert forward["Sid"] == "InvokeBusForwardReceipts"
    assert forward["Condition"] == {
        "StringEquals": {"events:source": ["aws.s3"], "events:detail-type": ["Object Created"]}
    }
    assert invoke_role_statements({"notify": RuleArgs({}, {"fn": RuleTarget("lambda", "arn:fn")})}) == []
    assert needs_invoke_role({"notify": RuleArgs({}, {"fn": RuleTarget("lambda", "arn:fn")})}) is False


def test_the_invoke_role_conditions_need_the_resolved_pattern() -> None:
    unresolved = RuleArgs(pulumi.Output.from_input({"source": ["x"]}), {"bus": RuleTarget("bus", "arn:bus")})

    assert needs_invoke_role({"forward": unresolved}) is True
    with pytest.raises(TypeError, match="rule 'forward': resolve its pattern first"):
        invoke_role_statements({"forward": unresolved})


def test_a_pattern_without_exact_sources_gives_no_condition() -> None:
    assert pattern_put_condition({"source": [{"prefix": "aws."}]}) is None
    assert pattern_put_condition({"detail-type": ["A", "A"]}) == {"StringEquals": {"events:detail-type": ["A"]}}


# ---- API, identity, realtime, alarms ------------------------------------------------------------
def test_route_source_arn_scopes_the_permission_to_the_route() -> None:
    assert route_source_arn("arn:aws:execute-api:r:1:abc", "GET /orders/{orderId}") == (
        "arn:aws:execute-api:r:1:abc/*/GET/orders/*"
    )
    assert route_child_name("GET /orders/{orderId}") == "get-orders-orderid"
    with pytest.raises(ValueError):
        parse_route_key("FETCH /orders")


def test_access_log_format_is_one_json_object() -> None:
    fields = json.loads(access_log_format())
    assert fields["requestId"] == "$context.requestId" and fields["status"] == "$context.status"


def test_issuer_url_is_cognitos() -> None:
    assert issuer_url("eu-west-1", "eu-west-1_ABC") == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_ABC"


def test_publish_statement_is_limited_to_the_prefix() -> None:
    statement = publish_statement("eu-west-1", "1", "orders")
    assert statement["Action"] == "iot:Publish"
    assert statement["Resource"] == "arn:aws:iot:eu-west-1:1:topic/orders/*"
    with pytest.raises(ValueError):
        publish_statement("eu-west-1", "1", "orders/#")


def test_alarm_plan_has_one_depth_alarm_per_dlq_and_two_per_function() -> None:
    plan = alarm_plan({"a": "q1", "b": "q2"}, {"fn": "f"}, {"wf": "arn:sm"}, {"api": "id"})
    roles = [role for role, _, _ in plan]
    assert roles == ["dlq-a", "dlq-b", "fn-errors", "fn-throttles", "wf-failed", "wf-timed-out", "api-5xx"]
    assert plan[0][1] is DEAD_LETTER_DEPTH and plan[2][1] is FUNCTION_ERRORS


def test_layer_builds_are_atomic_and_tolerate_a_concurrent_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from components import layer

    requirements = tmp_path / "r.txt"
    requirements.write_text("a==1\n")
    built = tmp_path / "build" / build_key(requirements, "arm64", "python3.13")

    def fake_pip(command: list[str], **_: object) -> object:
        target = Path(command[command.index("--target") + 1])
        (target / "pkg").mkdir(parents=True)
        # Another process finishes the same build first.
        (built / "python").mkdir(parents=True, exist_ok=True)
        return type("Result", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    monkeypatch.setattr(layer.subprocess, "run", fake_pip)
    assert layer.build_layer_directory(requirements, "arm64", "python3.13", tmp_path / "build") == built
    assert sorted(p.name for p in (tmp_path / "build").iterdir()) == [built.name]  # no staging left behind


def test_failed_layer_build_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from components import layer

    requirements = tmp_path / "r.txt"
    requirements.write_text("a==1\n")
    monkeypatch.setattr(
        layer.subprocess, "run", lambda *a, **k: type("Result", (), {"returncode": 1, "stdout": "", "stderr": "no"})()
    )
    with pytest.raises(RuntimeError, match="failed"):
        layer.build_layer_directory(requirements, "arm64", "python3.13", tmp_path / "build")
    assert list((tmp_path / "build").iterdir()) == []


def test_function_overrides_replace_fields_and_refuse_a_misspelled_key() -> None:
    defaults = FunctionArgs(package="fn", reserved_concurrency=None, log_retention_days=7)
    assert with_overrides(defaults, "fn", {"timeout_seconds": 5}).timeout_seconds == 5
    assert defaults.timeout_seconds == 10
    with pytest.raises(ValueError, match=r"function 'fn': timout_seconds is not a FunctionArgs field \(fields: .*"):
        with_overrides(defaults, "fn", {"timout_seconds": 5, "timeout_seconds": 5})
