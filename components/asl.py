"""Amazon States Language (ASL) helpers that need no cloud and no Pulumi.

Three things a Step Functions component wants before it deploys a definition:

* :func:`validate_definition` checks the state graph that the service (and moto's parser) would only
  reject at run time or never: transitions to missing states, states with no way forward, unreachable
  states, misplaced ``States.ALL``, Tasks without a retry policy.
* :func:`jittered_retry` / :func:`no_retry` build Retriers, and :data:`TRANSIENT_LAMBDA_ERRORS` names the
  Lambda service errors AWS recommends retrying.
* :func:`derive_policy_statements` turns the Tasks of a definition into the least-privilege IAM statements
  its execution role needs, and refuses integrations or dynamic resources it cannot bound.

Only JSON-compatible ``dict``/``list`` values go in and come out, so definitions can be built, checked and
serialised in plain Python and handed to any deployment tool.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

STATES_ALL: Final = "States.ALL"

TRANSIENT_LAMBDA_ERRORS: Final[tuple[str, ...]] = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
"""Lambda service errors that are worth retrying (AWS best practice for every Lambda Task)."""

STATE_TYPES: Final[frozenset[str]] = frozenset({"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"})
_TERMINAL_TYPES: Final[frozenset[str]] = frozenset({"Succeed", "Fail"})
_ERROR_HANDLING_TYPES: Final[frozenset[str]] = frozenset({"Task", "Parallel", "Map"})
_MAX_STATE_NAME_LENGTH: Final = 128  # ASL spec limit on state names.
_JITTER_STRATEGIES: Final[frozenset[str]] = frozenset({"FULL", "NONE"})
# Upper bounds the service documents for Retrier fields.
_MAX_INTERVAL_SECONDS: Final = 99_999_999
_MAX_ATTEMPTS: Final = 99_999_999
_MAX_DELAY_SECONDS: Final = 31_622_400


# ---------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AslProblem:
    """One defect found in a definition.

    Attributes
    ----------
    state:
        Where the defect is: a state name, prefixed by its enclosing Parallel branch or Map processor
        (``"Fanout.Branches[1].Inner"``), or ``"<definition>"`` for the top-level fields.
    message:
        What is wrong, in words.
    """

    state: str
    message: str

    def __str__(self) -> str:
        return f"{self.state}: {self.message}"


class AslValidationError(ValueError):
    """A definition is not a sound state machine.

    Parameters
    ----------
    problems:
        Every defect found (at least one); the message lists them all, each naming its state.
    """

    def __init__(self, problems: Sequence[AslProblem]) -> None:
        self.problems: tuple[AslProblem, ...] = tuple(problems)
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid state machine definition ({len(self.problems)} problem(s)):\n{listing}")


def validate_definition(definition: Mapping[str, Any], *, require_task_retry: bool = True) -> None:
    """Check the structure and state graph of an ASL definition.

    Parallel branches and Map ``ItemProcessor``/``Iterator`` blocks are checked as their own scopes:
    a transition may only target a state of the same scope.

    Parameters
    ----------
    definition:
        The state machine as a JSON-compatible mapping (``StartAt``, ``States``, ...).
    require_task_retry:
        When true (the default), every Task must declare a non-empty ``Retry``: transient failures of the
        called service are certain at scale, and a Task without Retry fails on the first one.

    Raises
    ------
    AslValidationError
        Listing every problem found, each naming the state and what is wrong: ``StartAt`` missing or
        unknown; a ``Next``/``Default``/``Choices[].Next``/``Catch[].Next`` target that does not exist; a
        non-terminal state with neither ``Next`` nor ``End: true``, or with both; a Choice without
        ``Choices``; a state unreachable from ``StartAt``; ``States.ALL`` not alone or not in the last
        Retrier/Catcher; malformed Retrier fields; duplicate state names; a Task without Retry (when
        required).
    """
    problems: list[AslProblem] = []
    _validate_scope(definition, "", problems, require_task_retry, seen_names={})
    if problems:
        raise AslValidationError(problems)


def _qualified(prefix: str, name: str) -> str:
    return f"{prefix}{name}" if prefix else name


def _validate_scope(
    scope: Any,
    prefix: str,
    problems: list[AslProblem],
    require_task_retry: bool,
    seen_names: dict[str, str],
) -> None:
    """Validate one ``{StartAt, States}`` block; ``prefix`` locates it inside its parent."""
    where = prefix.rstrip(".") or "<definition>"
    if not isinstance(scope, Mapping):
        problems.append(AslProblem(where, f"must be an object with StartAt and States, got {type(scope).__name__}"))
        return
    states = scope.get("States")
    if not isinstance(states, Mapping) or not states:
        problems.append(AslProblem(where, "States must be a non-empty object"))
        return
    start_at = scope.get("StartAt")
    if not isinstance(start_at, str) or not start_at:
        problems.append(AslProblem(where, "StartAt is missing"))
    elif start_at not in states:
        problems.append(AslProblem(where, f"StartAt {start_at!r} is not a state of this scope"))

    for name, state in states.items():
        if not isinstance(name, str):
            problems.append(AslProblem(where, f"state names must be strings, got {name!r}"))
            continue
        qualified = _qualified(prefix, name)
        if name in seen_names:
            problems.append(
                AslProblem(
                    qualified,
                    f"state name is also used at {seen_names[name]!r}; names are unique in the whole state machine",
                )
            )
        else:
            seen_names[name] = qualified
        if not name or len(name) > _MAX_STATE_NAME_LENGTH:
            problems.append(AslProblem(qualified, f"state name must be 1-{_MAX_STATE_NAME_LENGTH} characters"))
        if not isinstance(state, Mapping):
            problems.append(AslProblem(qualified, f"state must be an object, got {type(state).__name__}"))
            continue
        _validate_state(qualified, state, states, problems, require_task_retry, seen_names)

    if isinstance(start_at, str) and start_at in states:
        reachable = _reachable_states(start_at, states)
        for name in states:
            if name not in reachable:
                problems.append(AslProblem(_qualified(prefix, name), f"unreachable from StartAt {start_at!r}"))


def _validate_state(
    qualified: str,
    state: Mapping[str, Any],
    scope_states: Mapping[str, Any],
    problems: list[AslProblem],
    require_task_retry: bool,
    seen_names: dict[str, str],
) -> None:
    state_type = state.get("Type")
    if state_type not in STATE_TYPES:
        problems.append(AslProblem(qualified, f"Type {state_type!r} is not one of {sorted(STATE_TYPES)}"))
        return

    def check_target(field: str, target: Any) -> None:
        if not isinstance(target, str) or not target:
            problems.append(AslProblem(qualified, f"{field} must be a state name, got {target!r}"))
        elif target not in scope_states:
            problems.append(AslProblem(qualified, f"{field} target {target!r} does not exist in this scope"))

    has_next = "Next" in state
    end = state.get("End")
    if "End" in state and not isinstance(end, bool):
        problems.append(AslProblem(qualified, f"End must be a boolean, got {end!r}"))

    if state_type in _TERMINAL_TYPES or state_type == "Choice":
        for field in ("Next", "End"):
            if field in state:
                problems.append(AslProblem(qualified, f"a {state_type} state must not have {field}"))
    elif has_next and end is True:
        problems.append(AslProblem(qualified, "has both Next and End: true; a state has exactly one way forward"))
    elif not has_next and end is not True:
        problems.append(AslProblem(qualified, "has neither Next nor End: true"))
    elif has_next:
        check_target("Next", state["Next"])

    if state_type == "Choice":
        choices = state.get("Choices")
        if not isinstance(choices, list) or not choices:
            problems.append(AslProblem(qualified, "a Choice state needs a non-empty Choices list"))
        else:
            for index, rule in enumerate(choices):
                if not isinstance(rule, Mapping) or "Next" not in rule:
                    problems.append(AslProblem(qualified, f"Choices[{index}] has no Next"))
                else:
                    check_target(f"Choices[{index}].Next", rule["Next"])
        if "Default" in state:
            check_target("Default", state["Default"])

    for field in ("Retry", "Catch"):
        if field in state and state_type not in _ERROR_HANDLING_TYPES:
            problems.append(AslProblem(qualified, f"{field} is only allowed on Task, Parallel and Map states"))

    retriers = state.get("Retry")
    if retriers is not None:
        _validate_retriers(qualified, retriers, problems)
    catchers = state.get("Catch")
    if catchers is not None:
        _validate_error_list(qualified, "Catch", catchers, problems)
        if isinstance(catchers, list):
            for index, catcher in enumerate(catchers):
                if isinstance(catcher, Mapping):
                    if "Next" not in catcher:
                        problems.append(AslProblem(qualified, f"Catch[{index}] has no Next"))
                    else:
                        check_target(f"Catch[{index}].Next", catcher["Next"])

    if state_type == "Task":
        resource = state.get("Resource")
        if not isinstance(resource, str) or not resource:
            problems.append(AslProblem(qualified, "a Task needs a Resource"))
        if require_task_retry and not (isinstance(retriers, list) and retriers):
            problems.append(AslProblem(qualified, "a Task must declare Retry for transient errors"))
    elif state_type == "Parallel":
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            problems.append(AslProblem(qualified, "a Parallel state needs a non-empty Branches list"))
        else:
            for index, branch in enumerate(branches):
                _validate_scope(branch, f"{qualified}.Branches[{index}].", problems, require_task_retry, seen_names)
    elif state_type == "Map":
        processors = [field for field in ("ItemProcessor", "Iterator") if field in state]
        if len(processors) != 1:
            problems.append(AslProblem(qualified, "a Map state needs exactly one of ItemProcessor or Iterator"))
        else:
            field = processors[0]
            _validate_scope(state[field], f"{qualified}.{field}.", problems, require_task_retry, seen_names)


def _validate_error_list(qualified: str, field: str, entries: Any, problems: list[AslProblem]) -> None:
    """Shared checks of Retry and Catch: ErrorEquals shape and the position of ``States.ALL``."""
    if not isinstance(entries, list):
        problems.append(AslProblem(qualified, f"{field} must be a list"))
        return
    for index, entry in enumerate(entries):
        label = f"{field}[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(AslProblem(qualified, f"{label} must be an object"))
            continue
        errors = entry.get("ErrorEquals")
        if not isinstance(errors, list) or not errors or not all(isinstance(e, str) and e for e in errors):
            problems.append(AslProblem(qualified, f"{label}.ErrorEquals must be a non-empty list of error names"))
            continue
        if STATES_ALL in errors:
            if len(errors) > 1:
                problems.append(AslProblem(qualified, f"{label}: States.ALL must appear alone in ErrorEquals"))
            if index != len(entries) - 1:
                problems.append(AslProblem(qualified, f"{label}: States.ALL must be in the last entry of {field}"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_retriers(qualified: str, retriers: Any, problems: list[AslProblem]) -> None:
    _validate_error_list(qualified, "Retry", retriers, problems)
    if not isinstance(retriers, list):
        return
    for index, retrier in enumerate(retriers):
        if not isinstance(retrier, Mapping):
            continue
        label = f"Retry[{index}]"
        bounded_ints = {
            "IntervalSeconds": (1, _MAX_INTERVAL_SECONDS),
            "MaxAttempts": (0, _MAX_ATTEMPTS),
            "MaxDelaySeconds": (1, _MAX_DELAY_SECONDS),
        }
        for field, (low, high) in bounded_ints.items():
            if field in retrier:
                value = retrier[field]
                if not _is_int(value) or not low <= value <= high:
                    problems.append(AslProblem(qualified, f"{label}.{field} must be an integer in [{low}, {high}]"))
        if "BackoffRate" in retrier:
            rate = retrier["BackoffRate"]
            if not isinstance(rate, int | float) or isinstance(rate, bool) or rate < 1.0:
                problems.append(AslProblem(qualified, f"{label}.BackoffRate must be a number >= 1.0"))
        if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in _JITTER_STRATEGIES:
            problems.append(
                AslProblem(qualified, f"{label}.JitterStrategy must be one of {sorted(_JITTER_STRATEGIES)}")
            )


def _transition_targets(state: Mapping[str, Any]) -> Iterator[str]:
    """Every state name this state can hand control to (ignoring malformed entries)."""
    for field in ("Next", "Default"):
        target = state.get(field)
        if isinstance(target, str):
            yield target
    for field in ("Choices", "Catch"):
        entries = state.get(field)
        if isinstance(entries, list):
            for entry in entries:
                if isinstance(entry, Mapping) and isinstance(entry.get("Next"), str):
                    yield entry["Next"]


def _reachable_states(start_at: str, states: Mapping[str, Any]) -> set[str]:
    reachable = {start_at}
    queue = deque([start_at])
    while queue:
        state = states.get(queue.popleft())
        if not isinstance(state, Mapping):
            continue
        for target in _transition_targets(state):
            if target in states and target not in reachable:
                reachable.add(target)
                queue.append(target)
    return reachable


# ---------------------------------------------------------------------------------------------------
# Retriers
# ---------------------------------------------------------------------------------------------------


def _check_error_names(error_equals: Sequence[str]) -> list[str]:
    if isinstance(error_equals, str):
        raise TypeError("error_equals must be a sequence of error names, not a single string")
    names = list(error_equals)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"error_equals must be a non-empty list of error names, got {names!r}")
    if STATES_ALL in names and len(names) > 1:
        raise ValueError("error_equals: States.ALL must appear alone")
    return names


def jittered_retry(
    error_equals: Sequence[str],
    *,
    interval_seconds: int = 1,
    backoff_rate: float = 2.0,
    max_attempts: int = 3,
    max_delay_seconds: int = 20,
) -> dict[str, Any]:
    """Build a Retrier with exponential backoff, capped and fully jittered.

    With ``JitterStrategy: FULL`` each wait is drawn uniformly from ``[0, min(interval * rate^n, cap)]``,
    so executions that failed together do not retry in lockstep against a recovering dependency.

    Parameters
    ----------
    error_equals:
        Error names this Retrier handles (``States.ALL`` only alone).
    interval_seconds:
        Wait before the first retry, before jitter (>= 1).
    backoff_rate:
        Multiplier applied to the wait after each attempt (>= 1.0).
    max_attempts:
        Retries after the first failure (>= 0; 0 means never retry).
    max_delay_seconds:
        Cap on any single wait (>= ``interval_seconds``).

    Returns
    -------
    dict
        The Retrier object, ready to put in a state's ``Retry`` list.

    Raises
    ------
    ValueError
        When an argument is out of the range the service accepts; the message names the argument.
    """
    names = _check_error_names(error_equals)
    if not _is_int(interval_seconds) or not 1 <= interval_seconds <= _MAX_INTERVAL_SECONDS:
        raise ValueError(
            f"interval_seconds must be an integer in [1, {_MAX_INTERVAL_SECONDS}], got {interval_seconds!r}"
        )
    if isinstance(backoff_rate, bool) or not isinstance(backoff_rate, int | float) or backoff_rate < 1.0:
        raise ValueError(f"backoff_rate must be a number >= 1.0, got {backoff_rate!r}")
    if not _is_int(max_attempts) or not 0 <= max_attempts <= _MAX_ATTEMPTS:
        raise ValueError(f"max_attempts must be an integer in [0, {_MAX_ATTEMPTS}], got {max_attempts!r}")
    if not _is_int(max_delay_seconds) or not interval_seconds <= max_delay_seconds <= _MAX_DELAY_SECONDS:
        raise ValueError(
            f"max_delay_seconds must be an integer in [interval_seconds, {_MAX_DELAY_SECONDS}], "
            f"got {max_delay_seconds!r}"
        )
    return {
        "ErrorEquals": names,
        "IntervalSeconds": interval_seconds,
        "BackoffRate": float(backoff_rate),
        "MaxAttempts": max_attempts,
        "MaxDelaySeconds": max_delay_seconds,
        "JitterStrategy": "FULL",
    }


def no_retry(error_equals: Sequence[str]) -> dict[str, Any]:
    """Build a Retrier that never retries the given errors.

    Retriers are matched in order, so putting this first exempts errors that are final answers (a failed
    DynamoDB condition, an execution that already exists) from a broader retry that follows it; the error
    then goes straight to the state's Catch.

    Parameters
    ----------
    error_equals:
        Error names that must not be retried.

    Returns
    -------
    dict
        ``{"ErrorEquals": [...], "MaxAttempts": 0}``.
    """
    return {"ErrorEquals": _check_error_names(error_equals), "MaxAttempts": 0}


# ---------------------------------------------------------------------------------------------------
# IAM statements from the definition
# ---------------------------------------------------------------------------------------------------


class AslPolicyError(ValueError):
    """A Task's permissions cannot be derived exactly (unknown integration, dynamic or malformed resource)."""

    def __init__(self, state: str, message: str) -> None:
        self.state = state
        super().__init__(f"{state}: {message}")


_INTEGRATION_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):states:::(?P<integration>.+)$")
_LAMBDA_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:(?P<name>[\w-]+)(?::[\w$-]+)?$"
)
_LAMBDA_PARTIAL_ARN = re.compile(r"^(?P<account>\d{12}):function:(?P<name>[\w-]+)(?::[\w$-]+)?$")
_LAMBDA_NAME = re.compile(r"^(?P<name>[\w-]{1,64})(?::[\w$-]+)?$")
_DYNAMODB_TABLE_ARN = re.compile(r"^arn:[\w-]+:dynamodb:[a-z0-9-]+:\d{12}:table/[\w.-]{3,255}$")
_DYNAMODB_TABLE_NAME = re.compile(r"^[\w.-]{3,255}$")
_EVENT_BUS_ARN = re.compile(r"^arn:[\w-]+:events:[a-z0-9-]+:\d{12}:event-bus/[\w./-]+$")
_EVENT_BUS_NAME = re.compile(r"^[\w./-]{1,256}$")
_STATE_MACHINE_ARN = re.compile(r"^arn:[\w-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]+(?::[\w-]+)?$")
_S3_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SNS_TOPIC_ARN = re.compile(r"^arn:[\w-]+:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(?:\.fifo)?$")
_SQS_QUEUE_URL = re.compile(
    r"^https://(?:sqs\.(?P<region>[a-z0-9-]+)|(?P<legacy_region>[a-z0-9-]+)\.queue)"
    r"\.amazonaws\.com(?:\.cn)?/(?P<account>\d{12})/(?P<name>[\w-]{1,80})$"
)


@dataclass(frozen=True)
class _Target:
    """The account context that bare resource names are resolved in."""

    region: str
    account: str
    partition: str


def derive_policy_statements(
    definition: Mapping[str, Any],
    *,
    region: str,
    account: str,
    partition: str = "aws",
) -> list[dict[str, Any]]:
    """Derive the IAM statements a state machine's role needs for what its Tasks call.

    Every Task is visited, including those inside Parallel branches and Map processors. Supported
    integrations (Task ``Resource``) and the permission each yields (action on resource):

    * ``arn:<partition>:states:::lambda:invoke``: ``lambda:InvokeFunction`` on the ``FunctionName`` ARN and
      ``<arn>:*``; a bare Lambda function ARN as Resource (legacy form) gets the same.
    * ``arn:<partition>:states:::dynamodb:getItem|putItem|updateItem|deleteItem``: ``dynamodb:<Action>`` on the
      ``TableName`` table ARN.
    * ``arn:<partition>:states:::events:putEvents``: ``events:PutEvents`` on each ``Entries[].EventBusName`` bus
      (name or ARN; absent means the default bus), conditioned on the ``events:source`` and
      ``events:detail-type`` values the entries put (EventBridge authorises each entry on its own), so the
      role cannot forge another publisher's events.
    * ``arn:<partition>:states:::states:startExecution``: ``states:StartExecution`` on ``StateMachineArn``;
      ``.sync`` and ``.sync:2`` also get ``states:DescribeExecution``/``states:StopExecution`` on its executions
      and ``events:PutTargets``/``PutRule``/``DescribeRule`` on the managed rule
      ``StepFunctionsGetEventsForStepFunctionsExecutionRule`` (the Step Functions IAM policies page).
    * ``arn:<partition>:states:::aws-sdk:s3:putObject``: ``s3:PutObject`` on ``arn:<partition>:s3:::<Bucket>/<Key>``; a
      ``Key.$`` built by ``States.Format('<prefix>{}...', ...)`` gets ``<Bucket>/<prefix>*``, any other
      dynamic key ``<Bucket>/*``.
    * ``arn:<partition>:states:::sns:publish`` (or ``aws-sdk:sns:publish``): ``sns:Publish`` on ``TopicArn``.
    * ``arn:<partition>:states:::sqs:sendMessage`` (or ``aws-sdk:sqs:sendMessage``): ``sqs:SendMessage`` on the
      queue ARN of ``QueueUrl``.

    Resources are merged per action. Encryption keys (SSE-KMS customer keys on topics, queues or buckets),
    logging and X-Ray permissions are not part of the definition and must be granted by the caller.

    Parameters
    ----------
    definition:
        The ASL definition (JSONPath ``Parameters`` or JSONata ``Arguments``).
    region, account, partition:
        Used to turn bare names (function, table, bus) into ARNs.

    Returns
    -------
    list of dict
        ``{"Sid", "Effect": "Allow", "Action": [action], "Resource": [sorted ARNs]}`` per action, sorted by
        action, plus ``Condition`` where the action is conditioned. Never a wildcard action.

    Raises
    ------
    AslPolicyError
        Naming the state: an integration not in the table above (so a new integration cannot silently get
        no permission or too much), a resource parameter (or an event's ``Source``/``DetailType``) given as
        a JSONPath/JSONata expression (it must be static for least privilege), or a missing/malformed one.
    """
    for label, value in (("region", region), ("account", account), ("partition", partition)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{label} must be a non-empty string, got {value!r}")
    if not re.fullmatch(r"\d{12}", account):
        raise ValueError(f"account must be a 12-digit AWS account id, got {account!r}")
    target = _Target(region=region, account=account, partition=partition)

    resources_by_action: dict[str, set[str]] = {}
    condition_values: dict[str, dict[str, set[str]]] = {}
    for state_name, state in _iter_tasks(definition, ""):
        for action, resources in _task_permissions(state_name, state, target):
            resources_by_action.setdefault(action, set()).update(resources)
        if state.get("Resource") == f"arn:{partition}:states:::events:putEvents":
            values = condition_values.setdefault("events:PutEvents", {})
            for key, put in _put_event_condition_values(state_name, _task_parameters(state_name, state)).items():
                values.setdefault(key, set()).update(put)

    statements = []
    for action in sorted(resources_by_action):
        service, verb = action.split(":", 1)
        statement: dict[str, Any] = {
            "Sid": f"{service.capitalize()}{verb}",
            "Effect": "Allow",
            "Action": [action],
            "Resource": sorted(resources_by_action[action]),
        }
        if action in condition_values:
            statement["Condition"] = {
                "StringEquals": {key: sorted(values) for key, values in sorted(condition_values[action].items())}
            }
        statements.append(statement)
    return statements


def _iter_tasks(scope: Any, prefix: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield ``(qualified name, state)`` for every Task, recursing into Parallel and Map."""
    where = prefix.rstrip(".") or "<definition>"
    states = scope.get("States") if isinstance(scope, Mapping) else None
    if not isinstance(states, Mapping):
        raise AslPolicyError(where, "States must be an object")
    for name, state in states.items():
        qualified = _qualified(prefix, name)
        if not isinstance(state, Mapping):
            raise AslPolicyError(qualified, "state must be an object")
        state_type = state.get("Type")
        if state_type == "Task":
            yield qualified, state
        elif state_type == "Parallel":
            for index, branch in enumerate(state.get("Branches") or []):
                yield from _iter_tasks(branch, f"{qualified}.Branches[{index}].")
        elif state_type == "Map":
            for field in ("ItemProcessor", "Iterator"):
                if field in state:
                    yield from _iter_tasks(state[field], f"{qualified}.{field}.")


def _static_parameter(
    state_name: str, parameters: Mapping[str, Any], key: str, *, required: bool = True, label: str | None = None
) -> Any:
    """Read a parameter that decides an IAM resource; reject JSONPath/JSONata forms.

    ``label`` is how the parameter is named in errors when it is nested (``Entries[0].EventBusName``).
    """
    label = label or key
    if f"{key}.$" in parameters:
        raise AslPolicyError(
            state_name,
            f"{label} is a JSONPath ({key}.$); resource parameters must be static so the role can be least-privilege",
        )
    value = parameters.get(key)
    if isinstance(value, str) and value.strip().startswith("{%"):
        raise AslPolicyError(
            state_name,
            f"{label} is a JSONata expression; resource parameters must be static so the role can be least-privilege",
        )
    if value is None and required:
        raise AslPolicyError(state_name, f"{label} is required to derive the permission")
    return value


def _task_parameters(state_name: str, state: Mapping[str, Any]) -> Mapping[str, Any]:
    parameters = state.get("Arguments", state.get("Parameters", {}))
    if not isinstance(parameters, Mapping):
        raise AslPolicyError(state_name, "Parameters/Arguments must be an object for a resource to be derived")
    return parameters


def _task_permissions(state_name: str, state: Mapping[str, Any], target: _Target) -> list[tuple[str, list[str]]]:
    if "Credentials" in state:
        raise AslPolicyError(state_name, "Tasks with Credentials (cross-account roles) are not supported")
    resource = state.get("Resource")
    if not isinstance(resource, str):
        raise AslPolicyError(state_name, "Task has no Resource")

    legacy_lambda = _LAMBDA_ARN.match(resource)
    if legacy_lambda:
        return [("lambda:InvokeFunction", _function_resources(state_name, resource, target))]

    match = _INTEGRATION_ARN.match(resource)
    if not match:
        raise AslPolicyError(state_name, f"unsupported Task Resource {resource!r}")
    if match["partition"] != target.partition:
        raise AslPolicyError(state_name, f"Resource partition {match['partition']!r} is not {target.partition!r}")
    integration = match["integration"]
    parameters = _task_parameters(state_name, state)

    if integration == "lambda:invoke":
        function = _static_parameter(state_name, parameters, "FunctionName")
        return [("lambda:InvokeFunction", _function_resources(state_name, function, target))]
    if integration in {"dynamodb:getItem", "dynamodb:putItem", "dynamodb:updateItem", "dynamodb:deleteItem"}:
        verb = integration.split(":", 1)[1]
        table = _static_parameter(state_name, parameters, "TableName")
        return [(f"dynamodb:{verb[0].upper()}{verb[1:]}", [_table_arn(state_name, table, target)])]
    if integration == "events:putEvents":
        return [("events:PutEvents", _event_bus_arns(state_name, parameters, target))]
    if integration in {"states:startExecution", "states:startExecution.sync", "states:startExecution.sync:2"}:
        machine = _static_parameter(state_name, parameters, "StateMachineArn")
        if not isinstance(machine, str) or not _STATE_MACHINE_ARN.match(machine):
            raise AslPolicyError(state_name, f"StateMachineArn {machine!r} is not a state machine ARN")
        if integration == "states:startExecution":
            return [("states:StartExecution", [machine])]
        return _sync_execution_permissions(machine, target)
    if integration == "aws-sdk:s3:putObject":
        bucket = _static_parameter(state_name, parameters, "Bucket")
        if not isinstance(bucket, str) or not _S3_BUCKET_NAME.match(bucket):
            raise AslPolicyError(state_name, f"Bucket {bucket!r} is not an S3 bucket name")
        return [("s3:PutObject", [f"arn:{target.partition}:s3:::{bucket}/{_object_key_pattern(parameters)}"])]
    if integration in {"sns:publish", "aws-sdk:sns:publish"}:
        for other in ("TargetArn", "PhoneNumber"):
            if other in parameters or f"{other}.$" in parameters:
                raise AslPolicyError(state_name, f"sns:publish with {other} is not supported; publish to a TopicArn")
        topic = _static_parameter(state_name, parameters, "TopicArn")
        if not isinstance(topic, str) or not _SNS_TOPIC_ARN.match(topic):
            raise AslPolicyError(state_name, f"TopicArn {topic!r} is not an SNS topic ARN")
        return [("sns:Publish", [topic])]
    if integration in {"sqs:sendMessage", "aws-sdk:sqs:sendMessage"}:
        queue_url = _static_parameter(state_name, parameters, "QueueUrl")
        queue = _SQS_QUEUE_URL.match(queue_url) if isinstance(queue_url, str) else None
        if not queue:
            raise AslPolicyError(state_name, f"QueueUrl {queue_url!r} is not an SQS queue URL")
        queue_region = queue["region"] or queue["legacy_region"]
        return [("sqs:SendMessage", [f"arn:{target.partition}:sqs:{queue_region}:{queue['account']}:{queue['name']}"])]
    raise AslPolicyError(
        state_name,
        f"integration {integration!r} is not known to derive_policy_statements; add it there with its exact "
        "permissions rather than granting them by hand",
    )


_SYNC_EXECUTION_RULE: Final = "StepFunctionsGetEventsForStepFunctionsExecutionRule"
"""The managed EventBridge rule through which Step Functions learns that a ``.sync`` child execution ended."""


def _sync_execution_permissions(machine: str, target: _Target) -> list[tuple[str, list[str]]]:
    """What ``startExecution.sync`` / ``.sync:2`` needs, as the Step Functions IAM policies page lists.

    Start the child, describe and stop its executions, and manage the managed rule that reports their end.
    """
    prefix, _, name = machine.rpartition(":stateMachine:")
    executions = f"{prefix}:execution:{name.split(':', 1)[0]}:*"
    rule = f"arn:{target.partition}:events:{target.region}:{target.account}:rule/{_SYNC_EXECUTION_RULE}"
    return [
        ("states:StartExecution", [machine]),
        ("states:DescribeExecution", [executions]),
        ("states:StopExecution", [executions]),
        ("events:PutTargets", [rule]),
        ("events:PutRule", [rule]),
        ("events:DescribeRule", [rule]),
    ]


def _function_resources(state_name: str, function: Any, target: _Target) -> list[str]:
    """Return the unqualified function ARN plus ``<arn>:*``, so its versions and aliases may be invoked too."""
    if not isinstance(function, str):
        raise AslPolicyError(state_name, f"FunctionName must be a string, got {function!r}")
    full = _LAMBDA_ARN.match(function)
    partial = _LAMBDA_PARTIAL_ARN.match(function)
    bare = _LAMBDA_NAME.match(function)
    if full:
        base = f"arn:{full['partition']}:lambda:{full['region']}:{full['account']}:function:{full['name']}"
    elif partial:
        base = f"arn:{target.partition}:lambda:{target.region}:{partial['account']}:function:{partial['name']}"
    elif bare:
        base = f"arn:{target.partition}:lambda:{target.region}:{target.account}:function:{bare['name']}"
    else:
        raise AslPolicyError(state_name, f"FunctionName {function!r} is not a function name or ARN")
    return [base, f"{base}:*"]


def _table_arn(state_name: str, table: Any, target: _Target) -> str:
    if isinstance(table, str) and _DYNAMODB_TABLE_ARN.match(table):
        return table
    if isinstance(table, str) and _DYNAMODB_TABLE_NAME.match(table):
        return f"arn:{target.partition}:dynamodb:{target.region}:{target.account}:table/{table}"
    raise AslPolicyError(state_name, f"TableName {table!r} is not a DynamoDB table name or ARN")


def _event_bus_arns(state_name: str, parameters: Mapping[str, Any], target: _Target) -> list[str]:
    entries = _static_parameter(state_name, parameters, "Entries")
    if not isinstance(entries, list) or not entries:
        raise AslPolicyError(state_name, "Entries must be a non-empty list")
    arns = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise AslPolicyError(state_name, f"Entries[{index}] must be an object")
        bus = _static_parameter(
            state_name, entry, "EventBusName", required=False, label=f"Entries[{index}].EventBusName"
        )
        bus = "default" if bus is None else bus
        if isinstance(bus, str) and _EVENT_BUS_ARN.match(bus):
            arns.append(bus)
        elif isinstance(bus, str) and _EVENT_BUS_NAME.match(bus):
            arns.append(f"arn:{target.partition}:events:{target.region}:{target.account}:event-bus/{bus}")
        else:
            raise AslPolicyError(state_name, f"Entries[{index}].EventBusName {bus!r} is not an event bus name or ARN")
    return arns


# A States.Format template whose literal prefix (no quote, brace, backslash or IAM wildcard) precedes the first {}.
_FORMAT_KEY_PREFIX = re.compile(r"^\s*States\.Format\(\s*'(?P<prefix>[^'{}\\*?]*)\{\}")


def _object_key_pattern(parameters: Mapping[str, Any]) -> str:
    """The object key, or the narrowest key pattern a dynamic ``Key.$`` is known to stay within."""
    key = parameters.get("Key")
    if isinstance(key, str) and key and not key.startswith("{%") and not set(key) & {"*", "?"}:
        return key
    expression = parameters.get("Key.$")
    match = _FORMAT_KEY_PREFIX.match(expression) if isinstance(expression, str) else None
    return f"{match['prefix']}*" if match else "*"


_EVENT_CONDITION_KEYS: Final = {"Source": "events:source", "DetailType": "events:detail-type"}


def _put_event_condition_values(state_name: str, parameters: Mapping[str, Any]) -> dict[str, set[str]]:
    """The ``events:source`` and ``events:detail-type`` values a putEvents Task puts (each must be static)."""
    entries = _static_parameter(state_name, parameters, "Entries")
    values: dict[str, set[str]] = {key: set() for key in _EVENT_CONDITION_KEYS.values()}
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        for field, key in _EVENT_CONDITION_KEYS.items():
            value = _static_parameter(state_name, entry, field, label=f"Entries[{index}].{field}")
            if not isinstance(value, str) or not value or value.startswith("{%"):
                raise AslPolicyError(state_name, f"Entries[{index}].{field} must be a static string, got {value!r}")
            values[key].add(value)
    return values
