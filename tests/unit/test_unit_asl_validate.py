"""components.asl: validate_definition against broken graphs, the Retrier builders, and moto's grammar."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

from components.asl import (
    TRANSIENT_LAMBDA_ERRORS,
    AslProblem,
    AslValidationError,
    jittered_retry,
    no_retry,
    validate_definition,
)

LAMBDA = "arn:aws:states:::lambda:invoke"
RETRY = [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 2}]


def task(next_state: str | None = None, **extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": LAMBDA,
        "Parameters": {"FunctionName": "f"},
        "Retry": copy.deepcopy(RETRY),
    }
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    state.update(extra)
    return state


def valid_definition() -> dict[str, Any]:
    """One of every state kind, nested scopes included; the baseline every broken case mutates."""
    return {
        "StartAt": "Classify",
        "States": {
            "Classify": task("Route", Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Oops"}]),
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.kind", "StringEquals": "many", "Next": "Fanout"}],
                "Default": "Each",
            },
            "Fanout": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Left", "States": {"Left": task()}},
                    {
                        "StartAt": "Right",
                        "States": {"Right": {"Type": "Pass", "Next": "RightDone"}, "RightDone": {"Type": "Succeed"}},
                    },
                ],
                "Next": "Done",
            },
            "Each": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "Item", "States": {"Item": task()}},
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
            "Oops": {"Type": "Fail", "Error": "Oops", "Cause": "classification failed"},
        },
    }


Mutation = Callable[[dict[str, Any]], None]


def _set(path: list[Any], value: Any) -> Mutation:
    def mutate(definition: dict[str, Any]) -> None:
        node = definition
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _delete(path: list[Any]) -> Mutation:
    def mutate(definition: dict[str, Any]) -> None:
        node = definition
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


def _both(*mutations: Mutation) -> Mutation:
    def mutate(definition: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(definition)

    return mutate


S = "States"
BRANCH0 = [S, "Fanout", "Branches", 0, S]
ITEMS = [S, "Each", "ItemProcessor", S]

# (case id, mutation of the valid baseline, state the error must name, words the problem must contain)
BROKEN: list[tuple[str, Mutation, str, str]] = [
    ("start-at-missing", _delete(["StartAt"]), "<definition>", "StartAt is missing"),
    ("start-at-unknown", _set(["StartAt"], "Nope"), "<definition>", "StartAt 'Nope' is not a state"),
    ("states-empty", _set([S], {}), "<definition>", "States must be a non-empty object"),
    ("next-missing-target", _set([S, "Classify", "Next"], "Nope"), "Classify", "Next target 'Nope' does not exist"),
    ("default-missing-target", _set([S, "Route", "Default"], "Nope"), "Route", "Default target 'Nope'"),
    ("choice-next-missing-target", _set([S, "Route", "Choices", 0, "Next"], "Nope"), "Route", "Choices[0].Next target"),
    ("choice-rule-without-next", _delete([S, "Route", "Choices", 0, "Next"]), "Route", "Choices[0] has no Next"),
    (
        "catch-next-missing-target",
        _set([S, "Classify", "Catch", 0, "Next"], "Nope"),
        "Classify",
        "Catch[0].Next target",
    ),
    ("catch-without-next", _delete([S, "Classify", "Catch", 0, "Next"]), "Classify", "Catch[0] has no Next"),
    ("neither-next-nor-end", _delete([S, "Classify", "Next"]), "Classify", "neither Next nor End"),
    (
        "end-false-without-next",
        _both(_delete([S, "Classify", "Next"]), _set([S, "Classify", "End"], False)),
        "Classify",
        "neither Next nor End",
    ),
    ("end-not-boolean", _set([S, "Each", "End"], "yes"), "Each", "End must be a boolean"),
    ("both-next-and-end", _set([S, "Classify", "End"], True), "Classify", "both Next and End"),
    ("choice-without-choices", _delete([S, "Route", "Choices"]), "Route", "needs a non-empty Choices"),
    ("choice-with-empty-choices", _set([S, "Route", "Choices"], []), "Route", "needs a non-empty Choices"),
    ("choice-with-end", _set([S, "Route", "End"], True), "Route", "must not have End"),
    ("succeed-with-next", _set([S, "Done", "Next"], "Oops"), "Done", "must not have Next"),
    ("unreachable-state", _set([S, "Orphan"], {"Type": "Succeed"}), "Orphan", "unreachable from StartAt"),
    ("unknown-type", _set([S, "Done", "Type"], "Success"), "Done", "Type 'Success' is not one of"),
    ("state-not-object", _set([S, "Done"], "Succeed"), "Done", "state must be an object"),
    (
        "retry-all-not-alone",
        _set([S, "Classify", "Retry"], [{"ErrorEquals": ["States.ALL", "Lambda.ServiceException"]}]),
        "Classify",
        "States.ALL must appear alone",
    ),
    (
        "retry-all-not-last",
        _set([S, "Classify", "Retry"], [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]),
        "Classify",
        "States.ALL must be in the last entry of Retry",
    ),
    (
        "catch-all-not-alone",
        _set([S, "Classify", "Catch"], [{"ErrorEquals": ["States.ALL", "X"], "Next": "Oops"}]),
        "Classify",
        "States.ALL must appear alone",
    ),
    (
        "catch-all-not-last",
        _set(
            [S, "Classify", "Catch"],
            [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}, {"ErrorEquals": ["X"], "Next": "Oops"}],
        ),
        "Classify",
        "States.ALL must be in the last entry of Catch",
    ),
    (
        "retry-empty-error-equals",
        _set([S, "Classify", "Retry"], [{"ErrorEquals": []}]),
        "Classify",
        "ErrorEquals must be a non-empty list",
    ),
    ("retry-not-list", _set([S, "Classify", "Retry"], {"ErrorEquals": ["X"]}), "Classify", "Retry must be a list"),
    (
        "retry-backoff-below-one",
        _set([S, "Classify", "Retry", 0, "BackoffRate"], 0.5),
        "Classify",
        "BackoffRate must be a number >= 1.0",
    ),
    (
        "retry-interval-zero",
        _set([S, "Classify", "Retry", 0, "IntervalSeconds"], 0),
        "Classify",
        "IntervalSeconds must be an integer",
    ),
    (
        "retry-attempts-bool",
        _set([S, "Classify", "Retry", 0, "MaxAttempts"], True),
        "Classify",
        "MaxAttempts must be an integer",
    ),
    (
        "retry-max-delay-zero",
        _set([S, "Classify", "Retry", 0, "MaxDelaySeconds"], 0),
        "Classify",
        "MaxDelaySeconds must be an integer",
    ),
    (
        "retry-bad-jitter",
        _set([S, "Classify", "Retry", 0, "JitterStrategy"], "HALF"),
        "Classify",
        "JitterStrategy must be one of",
    ),
    (
        "retry-on-pass",
        _set([S, "Fanout", "Branches", 1, S, "Right", "Retry"], copy.deepcopy(RETRY)),
        "Fanout.Branches[1].Right",
        "Retry is only allowed",
    ),
    ("task-without-retry", _delete([S, "Classify", "Retry"]), "Classify", "must declare Retry"),
    ("task-with-empty-retry", _set([S, "Classify", "Retry"], []), "Classify", "must declare Retry"),
    ("task-without-resource", _delete([S, "Classify", "Resource"]), "Classify", "needs a Resource"),
    ("parallel-without-branches", _delete([S, "Fanout", "Branches"]), "Fanout", "non-empty Branches"),
    ("branch-dangling-next", _set([*BRANCH0, "Left"], task("Nope")), "Fanout.Branches[0].Left", "Next target 'Nope'"),
    (
        "branch-next-leaves-scope",
        _set([*BRANCH0, "Left"], task("Done")),
        "Fanout.Branches[0].Left",
        "Next target 'Done' does not exist in this scope",
    ),
    (
        "branch-start-at-unknown",
        _set([S, "Fanout", "Branches", 0, "StartAt"], "Nope"),
        "Fanout.Branches[0]",
        "StartAt 'Nope'",
    ),
    ("branch-unreachable", _set([*BRANCH0, "Stray"], {"Type": "Succeed"}), "Fanout.Branches[0].Stray", "unreachable"),
    ("map-task-without-retry", _delete([*ITEMS, "Item", "Retry"]), "Each.ItemProcessor.Item", "must declare Retry"),
    (
        "map-without-processor",
        _delete([S, "Each", "ItemProcessor"]),
        "Each",
        "exactly one of ItemProcessor or Iterator",
    ),
    (
        "map-iterator-unreachable",
        _both(
            _delete([S, "Each", "ItemProcessor"]),
            _set([S, "Each", "Iterator"], {"StartAt": "It", "States": {"It": task(), "Lost": {"Type": "Succeed"}}}),
        ),
        "Each.Iterator.Lost",
        "unreachable",
    ),
    (
        "duplicate-name-across-scopes",
        _set([S, "Fanout", "Branches", 0], {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        "Done",
        "also used at 'Fanout.Branches[0].Done'",
    ),
]


def test_the_baseline_is_valid() -> None:
    validate_definition(valid_definition())


@pytest.mark.parametrize(
    ("mutate", "state", "problem"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_broken_definition_is_rejected_naming_the_state(mutate: Mutation, state: str, problem: str) -> None:
    definition = valid_definition()
    mutate(definition)

    with pytest.raises(AslValidationError) as caught:
        validate_definition(definition)

    matching = [p for p in caught.value.problems if p.state == state and problem in p.message]
    assert matching, f"no problem naming {state!r} with {problem!r} in {caught.value.problems}"
    assert f"{state}: " in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    definition = valid_definition()
    del definition["States"]["Classify"]["Retry"]
    definition["States"]["Done"]["Next"] = "Oops"

    with pytest.raises(AslValidationError) as caught:
        validate_definition(definition)

    assert {p.state for p in caught.value.problems} == {"Classify", "Done"}
    assert "2 problem(s)" in str(caught.value)


def test_task_retry_can_be_optional() -> None:
    definition = valid_definition()
    del definition["States"]["Classify"]["Retry"]

    validate_definition(definition, require_task_retry=False)
    with pytest.raises(AslValidationError):
        validate_definition(definition)


def test_problem_renders_as_state_and_message() -> None:
    assert str(AslProblem("A.Branches[0].B", "has neither Next nor End: true")) == (
        "A.Branches[0].B: has neither Next nor End: true"
    )


def test_non_object_definition_is_rejected() -> None:
    with pytest.raises(AslValidationError, match="<definition>: must be an object"):
        validate_definition([])  # type: ignore[arg-type]


# ---- Retrier builders -----------------------------------------------------------------------


def test_jittered_retry_carries_every_backoff_field() -> None:
    retrier = jittered_retry(
        ["TransientDependencyError", *TRANSIENT_LAMBDA_ERRORS],
        interval_seconds=2,
        backoff_rate=3,
        max_attempts=5,
        max_delay_seconds=30,
    )
    assert retrier == {
        "ErrorEquals": [
            "TransientDependencyError",
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
        ],
        "IntervalSeconds": 2,
        "BackoffRate": 3.0,
        "MaxAttempts": 5,
        "MaxDelaySeconds": 30,
        "JitterStrategy": "FULL",
    }


def test_no_retry_never_retries() -> None:
    assert no_retry(["DynamoDB.ConditionalCheckFailedException"]) == {
        "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
        "MaxAttempts": 0,
    }


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"interval_seconds": 0}, "interval_seconds"),
        ({"interval_seconds": 1.5}, "interval_seconds"),
        ({"backoff_rate": 0.9}, "backoff_rate"),
        ({"backoff_rate": True}, "backoff_rate"),
        ({"max_attempts": -1}, "max_attempts"),
        ({"max_attempts": False}, "max_attempts"),
        ({"max_delay_seconds": 0}, "max_delay_seconds"),
        ({"interval_seconds": 10, "max_delay_seconds": 5}, "max_delay_seconds"),
    ],
)
def test_jittered_retry_rejects_out_of_range_arguments(kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        jittered_retry(["X"], **kwargs)


@pytest.mark.parametrize("errors", [[], [""], ["States.ALL", "X"]])
def test_retry_builders_reject_bad_error_lists(errors: list[str]) -> None:
    with pytest.raises(ValueError, match="error"):
        jittered_retry(errors)
    with pytest.raises(ValueError, match="error"):
        no_retry(errors)


def test_retry_builders_reject_a_bare_string() -> None:
    with pytest.raises(TypeError, match="not a single string"):
        jittered_retry("Lambda.ServiceException")


def test_built_retriers_pass_validation_and_moto_grammar() -> None:
    definition = valid_definition()
    definition["States"]["Classify"]["Retry"] = [no_retry(["Fatal"]), jittered_retry(["States.TaskFailed"])]

    validate_definition(definition)
    AmazonStateLanguageParser.parse(json.dumps(definition))


# ---- moto's grammar check is a real check --------------------------------------------------


def test_moto_parser_accepts_the_baseline_and_rejects_bad_grammar() -> None:
    AmazonStateLanguageParser.parse(json.dumps(valid_definition()))

    broken = copy.deepcopy(valid_definition())
    broken["States"]["Classify"]["Retry"][0]["MaxAttempts"] = "three"
    with pytest.raises(ASLParserException):
        AmazonStateLanguageParser.parse(json.dumps(broken))
