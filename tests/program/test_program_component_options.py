"""Components used outside this project: opt-outs stay visible in the inputs, options reach the resources."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from offline.harness import run_program
from offline.recording import ProgramRun

PROGRAM = """
from pathlib import Path

import pulumi

from components.event_bus import EventBus, EventBusArgs, RuleArgs, RuleTarget
from components.function import AsyncInvokeArgs, Function, FunctionArgs
from components.queue import Queue, QueueArgs
from components.table import KeyAttribute, Table, TableArgs
from components.topic import Topic, TopicArgs

handlers = Path(__file__).parent / "handlers"
fn = Function(
    "worker",
    FunctionArgs(
        package="worker",
        shared_packages=(),
        handlers_dir=handlers,
        reserved_concurrency=-1,
        log_retention_days=3,
        tracing_mode="PassThrough",
        powertools_layer_arn="arn:aws:lambda:eu-west-1:111111111111:layer:private-powertools:4",
        async_invoke=AsyncInvokeArgs(
            on_failure_destination_arn="arn:aws:sns:eu-west-1:123456789012:t", destination_service="sns"
        ),
    ),
)
Table(
    "plain",
    TableArgs(
        hash_key=KeyAttribute("id"), point_in_time_recovery=False, deletion_protection=False, billing_mode="PROVISIONED"
    ),
)
Queue("raw", QueueArgs(sqs_managed_sse=False, visibility_timeout_seconds=45))
Topic("clear", TopicArgs(kms_master_key_id=None))
EventBus(
    "probe",
    EventBusArgs(
        archive_retention_days=2,
        rules={
            "shaped": RuleArgs(
                {"source": ["probe"]},
                {"worker": RuleTarget(
                    "lambda",
                    fn.arn,
                    input_transformer={"input_paths": {"id": "$.id"}, "input_template": '{"eventId": <id>}'},
                    maximum_retry_attempts=3,
                    maximum_event_age_seconds=600,
                )},
            )
        },
    ),
)
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> ProgramRun:
    project = tmp_path_factory.mktemp("project")
    (project / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (project / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    (project / "handlers" / "worker").mkdir(parents=True)
    (project / "handlers" / "worker" / "app.py").write_text("def lambda_handler(event, context):\n    return event\n")
    return run_program("dev", project_dir=project)


def test_function_opt_outs_and_overrides_are_visible(run: ProgramRun) -> None:
    fn = run.named("worker-function").inputs
    assert fn["reservedConcurrentExecutions"] == -1
    assert fn["tracingConfig"] == {"mode": "PassThrough"}
    assert fn["layers"] == ["arn:aws:lambda:eu-west-1:111111111111:layer:private-powertools:4"]
    assert fn["name"] == "probe-dev-worker"
    config = run.named("worker-async").inputs
    assert config["destinationConfig"]["onFailure"]["destination"] == "arn:aws:sns:eu-west-1:123456789012:t"
    assert '"sns:Publish"' in run.named("worker-policy").inputs["policy"]


def test_storage_and_messaging_opt_outs_are_visible(run: ProgramRun) -> None:
    table = run.named("plain-table").inputs
    assert table["pointInTimeRecovery"] == {"enabled": False}
    assert table["billingMode"] == "PROVISIONED"
    assert table["deletionProtectionEnabled"] is False
    queue = run.named("raw-queue").inputs
    assert queue["sqsManagedSseEnabled"] is False and queue["visibilityTimeoutSeconds"] == 45
    assert "kmsMasterKeyId" not in run.named("clear-topic").inputs


def test_rule_targets_take_input_transformers_and_retry_bounds(run: ProgramRun) -> None:
    (target,) = run.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert target.inputs["inputTransformer"] == {"inputPaths": {"id": "$.id"}, "inputTemplate": '{"eventId": <id>}'}
    assert target.inputs["retryPolicy"] == {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 600}


def test_bad_component_input_fails_naming_the_component(tmp_path: Path) -> None:
    project = tmp_path
    (project / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (project / "__main__.py").write_text(
        "from components.event_bus import EventBus, EventBusArgs, RuleArgs\n"
        "pattern = {'source': [{'prefx': 'a'}]}\n"
        "EventBus('bad', EventBusArgs(archive_retention_days=1, rules={'typo': RuleArgs(pattern, {})}))\n"
    )
    with pytest.raises(Exception, match="typo"):
        run_program("dev", project_dir=project)
