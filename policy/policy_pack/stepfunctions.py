"""AWS Step Functions: X-Ray, execution logging, and Retry/Catch on every Task state."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, CannotEvaluateError, Finding, Props, ResourceRule, StackRule, StackView

STATE_MACHINE: Final = "aws:sfn/stateMachine:StateMachine"

SERVICE: Final = "stepfunctions"

# Verbosity order of the logging levels: a level passes when it logs at least as much as the minimum.
_LEVELS: Final = ("OFF", "FATAL", "ERROR", "ALL")


# What the state machine's role needs to send traces (AWS's own policy template for X-Ray in Step Functions).
XRAY_ACTIONS: Final = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)


def _tracing(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    # Not remediated: tracing on for a role without the X-Ray actions records nothing (or fails the update).
    if props.flag("tracingConfiguration.enabled", False) is not True:
        yield (
            "tracingConfiguration.enabled is not true: executions are not traced with X-Ray; enable it and allow "
            f"{', '.join(XRAY_ACTIONS)} on the state machine's role"
        )


def _tracing_permissions(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    from policy_pack.lambda_ import tracing_permission_findings  # the same check as for functions

    owners = []
    for machine in stack.of_type(STATE_MACHINE):
        try:
            enabled = machine.props.flag("tracingConfiguration.enabled", False)
        except CannotEvaluateError:
            stack.cannot_evaluate(f"tracing of {machine.name}")
            continue
        if enabled is True:
            owners.append((machine, "roleArn"))
    yield from tracing_permission_findings(
        stack, owners, XRAY_ACTIONS, "Step Functions cannot send the traces it is asked to record"
    )


def _logging(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    level = props.text("loggingConfiguration.level", "OFF")
    minimum = config["minimumLevel"]
    if level not in _LEVELS:
        yield f"loggingConfiguration.level {level!r} is not one of {', '.join(_LEVELS)}"
        return
    if _LEVELS.index(level) < _LEVELS.index(minimum):
        yield f"loggingConfiguration.level is {level!r}: log at least {minimum!r} to CloudWatch Logs"
        return
    if not props.is_set("loggingConfiguration.logDestination"):
        yield "loggingConfiguration.logDestination is not set: name the log group executions log to"
    if config["requireExecutionData"] and props.flag("loggingConfiguration.includeExecutionData", False) is not True:
        yield (
            "loggingConfiguration.includeExecutionData is not true: the logs say a state failed but not with which "
            "input (set requireExecutionData: false where inputs must stay out of logs)"
        )


def task_states(definition: Any, prefix: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every ``Task`` state of an Amazon States Language definition, nested ones included.

    Parameters
    ----------
    definition:
        The parsed definition (or a Parallel branch / Map processor, which have the same shape).
    prefix:
        Path of the enclosing state, for the names yielded.

    Yields
    ------
    tuple[str, Mapping[str, Any]]
        The state's path (``Outer/Branches[0]/Inner``) and the state object.
    """
    states = definition.get("States") if isinstance(definition, Mapping) else None
    if not isinstance(states, Mapping):
        return
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        path = f"{prefix}{name}"
        kind = state.get("Type")
        if kind == "Task":
            yield path, state
        elif kind == "Parallel":
            for index, branch in enumerate(state.get("Branches") or []):
                yield from task_states(branch, f"{path}/Branches[{index}]/")
        elif kind == "Map":
            for key in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(key), Mapping):
                    yield from task_states(state[key], f"{path}/{key}/")


# The sqs:sendMessage integration in any partition (aws, aws-cn, aws-us-gov…), optionally waiting for a task token.
SQS_SEND_MESSAGE: Final = re.compile(r"arn:[a-z-]+:states:::sqs:sendMessage(\.waitForTaskToken)?")


def failure_queue_urls(definition: Any) -> list[str]:
    """Queue URLs that a definition's error handling sends to: its failure (dead-letter) queues.

    A queue counts when a ``sqs:sendMessage`` Task is reached from a ``Catch`` clause's ``Next``
    (following ``Next``, ``Default`` and Choice branches within the same state list).
    """
    urls: list[str] = []
    for states in _state_lists(definition):
        pending = [
            catcher.get("Next")
            for state in states.values()
            if isinstance(state, Mapping)
            for catcher in state.get("Catch") or []
            if isinstance(catcher, Mapping)
        ]
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if not isinstance(name, str) or name in seen or not isinstance(states.get(name), Mapping):
                continue
            seen.add(name)
            state = states[name]
            resource = str(state.get("Resource", ""))
            if state.get("Type") == "Task" and SQS_SEND_MESSAGE.fullmatch(resource):
                for arguments in (state.get("Parameters"), state.get("Arguments")):
                    if isinstance(arguments, Mapping) and isinstance(arguments.get("QueueUrl"), str):
                        urls.append(arguments["QueueUrl"])
            pending.extend([state.get("Next"), state.get("Default")])
            pending.extend(choice.get("Next") for choice in state.get("Choices") or [] if isinstance(choice, Mapping))
    return urls


def _state_lists(definition: Any) -> Iterator[Mapping[str, Any]]:
    """The ``States`` object of a definition and of every Parallel branch and Map processor in it."""
    states = definition.get("States") if isinstance(definition, Mapping) else None
    if not isinstance(states, Mapping):
        return
    yield states
    for state in states.values():
        if not isinstance(state, Mapping):
            continue
        for branch in state.get("Branches") or []:
            yield from _state_lists(branch)
        for key in ("ItemProcessor", "Iterator"):
            yield from _state_lists(state.get(key))


def _task_retry_catch(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    definition = props.json("definition")
    if definition is ABSENT:
        return
    if not isinstance(definition, Mapping) or not isinstance(definition.get("States"), Mapping):
        yield "definition has no States object"
        return
    exempt = set(config["exemptStates"])
    for path, state in task_states(definition):
        if path.rsplit("/", 1)[-1] in exempt or path in exempt:
            continue
        missing = [
            field
            for field, required in (("Retry", config["requireRetry"]), ("Catch", config["requireCatch"]))
            if required and not (isinstance(state.get(field), list) and state[field])
        ]
        if missing:
            yield f"Task state {path!r} has no {' and no '.join(missing)}"


RULES: Final = [
    ResourceRule(
        name="sfn-tracing-enabled",
        summary="Step Functions state machines trace executions with X-Ray",
        anchors=(
            "serverless-rules WS5000 / aws_sfn_state_machine_tracing",
            "cdk-nag Serverless-StepFunctionStateMachineXray",
            "cdk-nag AwsSolutions-SF2",
            "checkov CKV_AWS_284",
        ),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(STATE_MACHINE,),
        check=_tracing,
    ),
    StackRule(
        name="sfn-tracing-permissions",
        summary=(
            "State machines with X-Ray tracing have a role allowed xray:PutTraceSegments, PutTelemetryRecords, "
            "GetSamplingRules and GetSamplingTargets"
        ),
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(STATE_MACHINE,),
        check=_tracing_permissions,
    ),
    ResourceRule(
        name="sfn-logging-enabled",
        summary=(
            "Step Functions state machines log executions, with their execution data, to CloudWatch Logs at the "
            "configured level or more (ALL gives AwsSolutions-SF1 parity)"
        ),
        anchors=("cdk-nag AwsSolutions-SF1", "checkov CKV_AWS_285"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(STATE_MACHINE,),
        check=_logging,
        config={
            "minimumLevel": {"type": "string", "enum": ["FATAL", "ERROR", "ALL"], "default": "ERROR"},
            "requireExecutionData": {"type": "boolean", "default": True},
        },
    ),
    ResourceRule(
        name="sfn-task-retry-catch",
        summary="Every Task state of a state machine definition has a Retry and a Catch",
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(STATE_MACHINE,),
        check=_task_retry_catch,
        config={
            "requireRetry": {"type": "boolean", "default": True},
            "requireCatch": {"type": "boolean", "default": True},
            "exemptStates": {"type": "array", "items": {"type": "string"}, "default": []},
        },
    ),
]
