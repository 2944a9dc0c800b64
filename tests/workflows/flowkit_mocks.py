"""Step Functions Local style mocked responses (``MockConfigFile.json``) for moto's ASL interpreter.

The file has AWS's documented shape::

    {"StateMachines": {"<state machine name>": {"TestCases": {"<case>": {"<state>": "<mocked response>"}}}},
     "MockedResponses": {"<mocked response>": {"0": {"Return": {...}}, "1-2": {"Throw": {"Error": ..., "Cause": ...}}}}}

Each key of a mocked response is an attempt (``"0"``) or an inclusive attempt range (``"1-2"``); together
they must cover attempts 0, 1, 2... without gaps, and cover every retry the state's Retriers would make
after a mocked Throw. States a test case does not name run for real (a
"hybrid" path). A mocked ``lambda:invoke`` Return is the service response, ``{"StatusCode": 200,
"Payload": {...}}``, not the function's bare result.

:func:`load_mock_config` validates the file against the recorded state machines (every name must exist,
every mocked state must be a Task of its machine) and turns each test case into moto's
:class:`~moto.stepfunctions.parser.mocking.mock_config.MockTestCase`; :func:`run_test_case` arms it for one
execution and runs it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from moto.stepfunctions.parser.mocking.mock_config import (
    MockedResponse,
    MockedResponseReturn,
    MockedResponseThrow,
    MockTestCase,
    StateMockedResponses,
)

from orderflow.workflows import LAMBDA_INVOKE, integration_arn
from tests.workflows.flowkit import ExecutionView, OrderFlow, RecordedSystem, read_execution

MOCK_CONFIG_PATH: Final = Path(__file__).with_name("MockConfigFile.json")
_RANGE: Final = re.compile(r"^(\d+)(?:-(\d+))?$")


class MockConfigError(ValueError):
    """The mock configuration breaks its format or names something the program lacks.

    The message starts with the JSON path of the offending key, e.g.
    ``MockedResponses.ShipFails["1-3"].Throw: "Cause" is required``.
    """


@dataclass(frozen=True)
class MockConfig:
    """A validated mock configuration: test cases by state machine name."""

    test_cases: Mapping[str, Mapping[str, MockTestCase]]

    def test_case(self, state_machine_name: str, test_case: str) -> MockTestCase:
        """The named test case of a state machine.

        Raises
        ------
        MockConfigError
            When the state machine or the test case is not in the file.
        """
        cases = self.test_cases.get(state_machine_name)
        if cases is None:
            raise MockConfigError(f"StateMachines: no state machine {state_machine_name!r} in the mock config")
        if test_case not in cases:
            raise MockConfigError(
                f"StateMachines.{state_machine_name}.TestCases: no test case {test_case!r} (defined: {sorted(cases)})"
            )
        return cases[test_case]


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MockConfigError(f"{where}: must be a JSON object, got {type(value).__name__}")
    return value


def _attempts(key: str, where: str) -> tuple[int, int]:
    match = _RANGE.match(key)
    if match is None:
        raise MockConfigError(f'{where}["{key}"]: an attempt is "N" or "N-M" (e.g. "0", "1-2")')
    start = int(match[1])
    end = int(match[2]) if match[2] is not None else start
    if end < start:
        raise MockConfigError(f'{where}["{key}"]: the range ends before it starts')
    return start, end


def _mocked_response(
    name: str, attempts: str, raw: Any, *, lambda_task: bool, where: str
) -> tuple[int, int, MockedResponse]:
    start, end = _attempts(attempts, where)
    here = f'{where}["{attempts}"]'
    body = _object(raw, here)
    kinds = [kind for kind in ("Return", "Throw") if kind in body]
    if len(kinds) != 1 or set(body) - {"Return", "Throw"}:
        raise MockConfigError(f"{here}: needs exactly one of Return or Throw, got {sorted(body)}")
    if kinds == ["Throw"]:
        throw = _object(body["Throw"], f"{here}.Throw")
        for key in ("Error", "Cause"):
            if not isinstance(throw.get(key), str):
                raise MockConfigError(f'{here}.Throw: "{key}" is required and must be a string')
        return start, end, MockedResponseThrow(start, end, error=throw["Error"], cause=throw["Cause"])
    payload = body["Return"]
    if lambda_task:
        returned = _object(payload, f"{here}.Return")
        if "StatusCode" not in returned or "Payload" not in returned:
            raise MockConfigError(
                f"{here}.Return: a mocked lambda:invoke answers like the Invoke API, "
                f'{{"StatusCode": 200, "Payload": ...}}; got keys {sorted(returned)}'
            )
    # JSON round trip: the interpreter must never share (and mutate) the file's objects.
    return start, end, MockedResponseReturn(start, end, payload=json.loads(json.dumps(payload)))


def matching_retrier(retriers: list[Mapping[str, Any]], error: str) -> int | None:
    """Index of the Retrier ASL applies to ``error`` (the first that names it), or None.

    Parameters
    ----------
    retriers:
        A state's ``Retry`` list.
    error:
        The error name a task reported.

    Returns
    -------
    int | None
        Position of the Retrier in ``retriers``.
    """
    for index, retrier in enumerate(retriers):
        names = retrier.get("ErrorEquals", [])
        # States.TaskFailed stands for any error a task reports, but not the interpreter's own States.*.
        task_failed = "States.TaskFailed" in names and not error.startswith("States.")
        if error in names or "States.ALL" in names or task_failed:
            return index
    return None


def _check_retries_covered(state_def: Mapping[str, Any], responses: StateMockedResponses, where: str) -> None:
    """Refuse a mock whose last Throw would be retried with no response left for the retry.

    moto turns the missing response into an interpreter error that ``States.ALL`` then catches (AWS's
    ``States.ALL`` never catches ``States.Runtime``), so the test would silently take a wrong path.
    """
    retriers = list(state_def.get("Retry") or [])
    used: dict[int, int] = {}
    sequence = responses.mocked_responses
    for attempt, response in enumerate(sequence):
        if not isinstance(response, MockedResponseThrow):
            return
        index = matching_retrier(retriers, response.error)
        if index is None:
            return
        used[index] = used.get(index, 0) + 1
        max_attempts = int(retriers[index].get("MaxAttempts", 3))
        if used[index] > max_attempts:
            return
        if attempt + 1 == len(sequence):
            raise MockConfigError(
                f"{where}: attempt {attempt + 1} would be retried ({response.error!r} matches Retry[{index}], "
                f"MaxAttempts {max_attempts}) but mocked response {responses.mocked_response_name!r} ends at "
                f"attempt {attempt}"
            )


def _state_responses(
    state: str, response_name: str, responses: Mapping[str, Any], *, lambda_task: bool, where: str
) -> StateMockedResponses:
    raw = responses.get(response_name)
    if raw is None:
        raise MockConfigError(f"{where}: mocked response {response_name!r} is not defined in MockedResponses")
    here = f"MockedResponses.{response_name}"
    parsed = sorted(
        (
            _mocked_response(response_name, key, value, lambda_task=lambda_task, where=here)
            for key, value in _object(raw, here).items()
        ),
        key=lambda item: item[0],
    )
    if not parsed:
        raise MockConfigError(f"{here}: defines no attempt")
    expected = 0
    for start, end, _ in parsed:
        if start != expected:
            raise MockConfigError(f"{here}: attempts must be consecutive from 0; attempt {expected} is missing")
        expected = end + 1
    return StateMockedResponses(
        state_name=state, mocked_response_name=response_name, mocked_responses=[item[2] for item in parsed]
    )


def parse_mock_config(document: Any, system: RecordedSystem) -> MockConfig:
    """Validate a mock configuration against the recorded state machines.

    Parameters
    ----------
    document:
        The parsed JSON document.
    system:
        The recorded program (state machine names and definitions).

    Returns
    -------
    MockConfig
        One moto ``MockTestCase`` per test case.

    Raises
    ------
    MockConfigError
        Naming the JSON path at fault.
    """
    root = _object(document, "<document>")
    unknown = set(root) - {"StateMachines", "MockedResponses"}
    if unknown:
        raise MockConfigError(f"<document>: unknown top-level keys {sorted(unknown)}")
    machines = _object(root.get("StateMachines"), "StateMachines")
    responses = _object(root.get("MockedResponses"), "MockedResponses")
    definitions = {machine.name: machine.document for machine in system.machines.values()}
    test_cases: dict[str, dict[str, MockTestCase]] = {}
    for machine_name, raw_machine in machines.items():
        where = f"StateMachines.{machine_name}"
        definition = definitions.get(machine_name)
        if definition is None:
            raise MockConfigError(f"{where}: the program has no state machine of that name ({sorted(definitions)})")
        cases = _object(_object(raw_machine, where).get("TestCases"), f"{where}.TestCases")
        test_cases[machine_name] = {}
        for case_name, raw_case in cases.items():
            case_where = f"{where}.TestCases.{case_name}"
            state_responses = []
            for state, response_name in _object(raw_case, case_where).items():
                state_def = definition["States"].get(state)
                if state_def is None:
                    raise MockConfigError(f"{case_where}.{state}: not a state of {machine_name}")
                if state_def.get("Type") != "Task":
                    raise MockConfigError(f"{case_where}.{state}: only Task states can be mocked")
                if not isinstance(response_name, str):
                    raise MockConfigError(f"{case_where}.{state}: must name a mocked response")
                mocked = _state_responses(
                    state,
                    response_name,
                    responses,
                    lambda_task=state_def.get("Resource") == integration_arn(LAMBDA_INVOKE),
                    where=f"{case_where}.{state}",
                )
                _check_retries_covered(state_def, mocked, f"{case_where}.{state}")
                state_responses.append(mocked)
            test_cases[machine_name][case_name] = MockTestCase(machine_name, case_name, state_responses)
    return MockConfig(test_cases=test_cases)


def load_mock_config(system: RecordedSystem, path: Path = MOCK_CONFIG_PATH) -> MockConfig:
    """Read and validate ``MockConfigFile.json`` (see :func:`parse_mock_config`)."""
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise MockConfigError(f"{path.name}: not valid JSON ({error})") from error
    return parse_mock_config(document, system)


def run_test_case(flow: OrderFlow, config: MockConfig, component: str, test_case: str, payload: Any) -> ExecutionView:
    """Run one execution of a workflow component with a test case's mocked responses.

    Parameters
    ----------
    flow:
        The running flow (unmocked states call moto and the real handlers).
    config:
        The validated mock configuration.
    component:
        Workflow component (``fulfillment``, ``customer-status-workflow``).
    test_case:
        Test case name in the file.
    payload:
        Execution input.

    Returns
    -------
    ExecutionView
        The finished execution; the rest of the flow (events, notifications) has settled too.
    """
    machine = flow.system.machine(component)
    case = config.test_case(machine.name, test_case)
    name = f"{test_case}-{uuid.uuid4().hex[:12]}"
    flow.seams.armed_test_cases.arm(name, case)
    started = flow.sfn.start_execution(stateMachineArn=machine.arn, name=name, input=json.dumps(payload))
    flow.router.pump()
    return read_execution(flow.sfn, started["executionArn"])
