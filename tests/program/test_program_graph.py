"""The recorded program as a graph: every asynchronous edge has its failure path; no grant uses `*`.

Edges walked: rule targets, asynchronous Lambda invokes (permissions for events/s3/sns), SQS event
source mappings, SNS subscriptions, S3 → default bus → custom bus, and Step Functions Task states.
"""

from __future__ import annotations

from offline.recording import ProgramRun, RecordedResource
from tests.program.recorded import as_list, document, statements

QUEUE = "aws:sqs/queue:Queue"
ASYNC_PRINCIPALS = {"events.amazonaws.com", "s3.amazonaws.com", "sns.amazonaws.com"}
POLICY_INPUTS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": "policy",
}


def queue_by_arn(run: ProgramRun, arn: str) -> RecordedResource:
    queue = run.find_by_output("arn", arn)
    assert queue is not None and queue.type == QUEUE, f"{arn} is not a queue of this stack"
    return queue


def function_by_reference(run: ProgramRun, reference: str) -> RecordedResource:
    for fn in run.of_type("aws:lambda/function:Function"):
        if reference in (fn.outputs["arn"], fn.outputs["name"]):
            return fn
    raise AssertionError(f"no function {reference}")


def test_every_rule_target_has_retry_policy_and_dlq(stack_run: ProgramRun) -> None:
    targets = stack_run.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 6
    for target in targets:
        assert target.inputs["retryPolicy"]["maximumRetryAttempts"] >= 0, target.name
        queue_by_arn(stack_run, target.inputs["deadLetterConfig"]["arn"])


def test_every_async_lambda_trigger_has_an_on_failure_destination(stack_run: ProgramRun) -> None:
    configs = {
        function_by_reference(stack_run, c.inputs["functionName"]).urn: c
        for c in stack_run.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    }
    async_permissions = [
        p for p in stack_run.of_type("aws:lambda/permission:Permission") if p.inputs["principal"] in ASYNC_PRINCIPALS
    ]
    assert async_permissions
    for permission in async_permissions:
        fn = function_by_reference(stack_run, permission.inputs["function"])
        config = configs.get(fn.urn)
        assert config is not None, f"{fn.name} is invoked asynchronously by {permission.inputs['principal']}"
        queue_by_arn(stack_run, config.inputs["destinationConfig"]["onFailure"]["destination"])


def test_iot_permissions_are_synchronous_authorizer_calls(stack_run: ProgramRun) -> None:
    authorizers = {a.outputs["arn"] for a in stack_run.of_type("aws:iot/authorizer:Authorizer")}
    iot = [
        p for p in stack_run.of_type("aws:lambda/permission:Permission") if p.inputs["principal"] == "iot.amazonaws.com"
    ]
    assert iot and all(p.inputs["sourceArn"] in authorizers for p in iot)


def test_every_queue_consumer_reads_a_queue_with_a_dlq(stack_run: ProgramRun) -> None:
    mappings = stack_run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mappings
    for mapping in mappings:
        queue = queue_by_arn(stack_run, mapping.inputs["eventSourceArn"])
        redrive = document(queue.inputs["redrivePolicy"])
        queue_by_arn(stack_run, redrive["deadLetterTargetArn"])
        assert "ReportBatchItemFailures" in mapping.inputs["functionResponseTypes"]


def test_every_sns_subscription_has_a_redrive_policy(prod: ProgramRun) -> None:
    subscriptions = prod.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscriptions
    for subscription in subscriptions:
        queue_by_arn(prod, document(subscription.inputs["redrivePolicy"])["deadLetterTargetArn"])


def test_s3_events_reach_the_bus_through_a_rule_with_a_failure_path(stack_run: ProgramRun) -> None:
    # The site's content bucket has nothing to announce: its notification stays visibly off.
    notifications = [
        n for n in stack_run.of_type("aws:s3/bucketNotification:BucketNotification") if n.inputs["eventbridge"]
    ]
    assert notifications
    default_rules = [
        r
        for r in stack_run.of_type("aws:cloudwatch/eventRule:EventRule")
        if r.inputs.get("eventBusName", "default") == "default"
    ]
    targets = stack_run.of_type("aws:cloudwatch/eventTarget:EventTarget")
    for notification in notifications:
        assert notification.inputs["eventbridge"] is True
        bucket = notification.inputs["bucket"]
        forwarding = [
            r for r in default_rules if bucket in document(r.inputs["eventPattern"])["detail"]["bucket"]["name"]
        ]
        assert forwarding, f"no default-bus rule routes {bucket}'s events"
        for rule in forwarding:
            rule_targets = [t for t in targets if t.inputs["rule"] == rule.inputs["name"]]
            assert rule_targets and all("deadLetterConfig" in t.inputs for t in rule_targets)


def forward_states(definition: dict[str, object]) -> set[str]:
    """States reachable from StartAt without following a Catch: the happy path."""
    states: dict[str, dict[str, object]] = definition["States"]  # type: ignore[assignment]
    seen: set[str] = set()
    pending = [str(definition["StartAt"])]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        state = states[name]
        pending += [str(state[k]) for k in ("Next", "Default") if k in state]
        pending += [str(choice["Next"]) for choice in state.get("Choices", [])]  # type: ignore[attr-defined]
    return seen


def test_every_task_retries_and_every_forward_task_is_caught(stack_run: ProgramRun) -> None:
    for machine in stack_run.of_type("aws:sfn/stateMachine:StateMachine"):
        definition = document(machine.inputs["definition"])
        tasks = {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}
        assert tasks
        for name, state in tasks.items():
            assert state.get("Retry"), f"{machine.name}: {name} has no Retry"
        if machine.inputs["type"] == "STANDARD":
            for name in forward_states(definition) & tasks.keys():
                assert tasks[name].get("Catch"), f"{machine.name}: forward step {name} has no Catch"


def _policy_documents(run: ProgramRun) -> list[tuple[str, dict[str, object]]]:
    found = []
    for type_, key in POLICY_INPUTS.items():
        for resource in run.of_type(type_):
            found.append((resource.name, resource.inputs[key]))
    return found


def test_no_grant_anywhere_uses_a_star_action(stack_run: ProgramRun) -> None:
    documents = _policy_documents(stack_run)
    assert len(documents) > 30
    for name, policy in documents:
        for statement in statements(policy):
            if statement.get("Effect") != "Allow":
                continue  # TLS-only Deny statements cover every action on purpose
            for action in as_list(statement.get("Action", [])):
                assert "*" not in action, f"{name} grants {action}"


def test_no_resource_policy_grants_a_star_principal_without_a_condition(stack_run: ProgramRun) -> None:
    for name, policy in _policy_documents(stack_run):
        for statement in statements(policy):
            if statement.get("Effect") == "Allow" and statement.get("Principal") in ("*", {"AWS": "*"}):
                assert "Condition" in statement, f"{name} grants to every principal"
