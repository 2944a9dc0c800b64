"""Canaries for every moto internal the emulator patches or reads (moto 5.2.5 pinned in local/requirements.txt).

Each test checks one internal still exists with the shape ``offline/emulator/moto_seams.py`` relies on,
and, where a patch closes a moto gap, that the gap is still open: when moto closes it, the canary fails
and says which patch to drop."""

from __future__ import annotations

import inspect
import json
import re
import threading
import time
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.botocore_stubber import BotocoreStubber
from moto.dynamodb.models import table as dynamodb_models
from moto.events.models import EventPattern
from moto.iotdata import urls as iotdata_urls
from moto.iotdata.models import iotdata_backends
from moto.s3 import models as s3_models
from moto.s3 import notifications as s3_notifications
from moto.sqs import models as sqs_models
from moto.sqs.models import SQSBackend, sqs_backends
from moto.stepfunctions.parser import models as sfn_parser_models
from moto.stepfunctions.parser import utils as sfn_parser_utils
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.common.retry import jitter_strategy_decl, retrier_decl
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_callback,
    state_task_service_dynamodb,
    state_task_service_events,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events import (
    StateTaskServiceEvents,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client, json_path
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.mocking import mock_config

from offline.emulator.moto_seams import (
    MOTO_CONFIG,
    PATCHED_ATTRIBUTES,
    ExecutionEnds,
    LambdaReply,
    MotoSeams,
    _sfn_error_names,
    normalise_sfn_response,
    patched_moto,
)
from tests.workflows.flowkit import MOTO_IOT_DATA_HOST, RecordedSystem, handler_environment, running_flow

REGION = "eu-west-1"
PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_moto_is_the_pinned_release() -> None:
    # The seams were written against the release local/requirements.txt pins (the test kits install it too).
    pins = re.findall(r"^moto\[\w+\]==(\S+)$", (PROJECT_DIR / "local" / "requirements.txt").read_text(), re.MULTILINE)
    assert pins == [metadata.version("moto")]


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def run_unpatched(definition: dict[str, Any], child: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a definition on moto's interpreter with none of the patches."""
    with mock_aws(config=MOTO_CONFIG):
        iam = boto3.client("iam", region_name=REGION)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        role = iam.create_role(RoleName="canary", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        if child is not None:
            sfn.create_state_machine(name="child", definition=json.dumps(child), roleArn=role)
        arn = sfn.create_state_machine(name="canary", definition=json.dumps(definition), roleArn=role)[
            "stateMachineArn"
        ]
        execution = sfn.start_execution(stateMachineArn=arn, name="canary", input="{}")["executionArn"]
        for _ in range(500):
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                return dict(described)
            time.sleep(0.01)
        raise AssertionError("the canary execution did not finish")


def _invoke(client: object) -> bytes:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client.create_function(
        FunctionName="f", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": b"zip"}
    )
    response = client.invoke(FunctionName="f", Payload=json.dumps({"n": 1}))
    return bytes(response["Payload"].read())


def test_without_the_patch_moto_lambda_runs_no_code_and_with_it_the_dispatcher_answers() -> None:
    with mock_aws(config=MOTO_CONFIG):
        client = boto3.client("lambda", region_name=REGION)
        assert b"from-dispatcher" not in _invoke(client)
    with (
        mock_aws(config=MOTO_CONFIG),
        patched_moto(
            dispatcher=lambda name, payload: LambdaReply(b'"from-dispatcher"'),
            s3_event_sink=lambda event: None,
            eventbridge_buckets=frozenset(),
            seams=MotoSeams(),
        ),
    ):
        client = boto3.client("lambda", region_name=REGION)
        assert _invoke(client) == b'"from-dispatcher"'
    assert LambdaSimpleBackend.invoke is not None  # restored on exit


# ---- Lambda --------------------------------------------------------------------------------------------


def test_lambda_simple_invoke_still_echoes_instead_of_running_code() -> None:
    assert parameters(LambdaSimpleBackend.invoke) == [
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ]
    backend = LambdaSimpleBackend(REGION, "123456789012")
    assert backend.invoke("any-function", None, '{"echo": true}', {}, {}) == b'{"echo": true}'


# ---- Step Functions: startExecution parameters ---------------------------------------------------------


def test_sfn_parameter_normalisation_is_still_a_no_op() -> None:
    assert parameters(StateTaskServiceSfn._normalise_parameters) == [
        "self",
        "parameters",
        "boto_service_name",
        "service_action_name",
    ]
    assert "_get_boto_service_action" in vars(type(StateTaskServiceSfn)) or hasattr(
        StateTaskServiceSfn, "_get_boto_service_action"
    )
    child = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    child_arn = f"arn:aws:states:{REGION}:123456789012:stateMachine:child"
    parent = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution",
                "Parameters": {"StateMachineArn": child_arn, "Name": "run-1", "Input": {"a": 1}},
                "End": True,
            }
        },
    }

    described = run_unpatched(parent, child)

    # Unpatched, StateMachineArn/Name/Input reach botocore as they are and the call fails. When this
    # passes, moto maps them itself: drop normalise_sfn_parameters from offline.emulator.moto_seams.
    assert described["status"] == "FAILED"
    assert "StateMachineArn" in (described.get("cause") or ""), described


def test_sfn_response_normalisation_is_still_a_no_op_while_sync_reads_the_integrations_member_names() -> None:
    # moto leaves botocore's member names (executionArn); its .sync/.sync:2 resolvers read the integration's
    # (ExecutionArn, Status…), so unpatched a nested execution fails with States.Runtime ('ExecutionArn').
    # When this fails, moto names them itself: drop normalise_sfn_response from offline.emulator.moto_seams.
    assert parameters(StateTaskServiceSfn._normalise_response) == [
        "self",
        "response",
        "boto_service_name",
        "service_action_name",
    ]
    response = {"executionArn": "arn", "startDate": "now"}
    StateTaskServiceSfn._normalise_response(cast(Any, None), response)
    assert response == {"executionArn": "arn", "startDate": "now"}
    for resolver in (StateTaskServiceSfn._build_sync_resolver, StateTaskServiceSfn._build_sync2_resolver):
        source = inspect.getsource(resolver)
        assert 'submission_output["ExecutionArn"]' in source
        assert "describe_execution" in source and "StatesTaskFailed" in source


def test_the_patched_response_names_members_as_the_integration_does_but_keeps_the_data() -> None:
    response = {"executionArn": "a", "inputDetails": {"included": True}, "output": {"orderId": "o"}}

    normalise_sfn_response(StateTaskServiceSfn._normalise_response)(cast(Any, None), response)

    assert response == {"ExecutionArn": "a", "InputDetails": {"Included": True}, "Output": {"orderId": "o"}}


def test_an_express_execution_is_still_interpreted_as_standard_and_never_timed_out_by_moto() -> None:
    # moto runs an EXPRESS machine's executions with execution_type STANDARD and no 5-minute limit; the
    # emulator's ExpressTimeLimit wraps Program._eval_body and learns the type from the machine. When this
    # fails, moto knows the type (check whether it also enforces the limit before dropping the seam).
    assert parameters(Program._eval_body) == ["self", "env"]
    with mock_aws(config=MOTO_CONFIG):
        iam = boto3.client("iam", region_name=REGION)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        role = iam.create_role(RoleName="canary", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
        arn = sfn.create_state_machine(name="express", definition=definition, roleArn=role, type="EXPRESS")[
            "stateMachineArn"
        ]
        [machine] = [m for m in sfn_parser_models.stepfunctions_parser_backends["123456789012"][REGION].state_machines]
        assert machine.arn == arn and (machine.type, machine.sm_type) == ("EXPRESS", "STANDARD")


def test_moto_still_names_a_throttled_start_with_exception_twice() -> None:
    throttled = ClientError(
        {
            "Error": {"Code": "ThrottlingException", "Message": "slow down"},
            "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "r-1"},
        },
        "StartExecution",
    )
    service = cast(Any, StateTaskServiceSfn.__new__(StateTaskServiceSfn))
    service._get_sfn_resource = lambda: "startExecution"
    service._get_sfn_resource_type = lambda: "states"

    # What a FailureEvent reads of its environment: the state it names and the event it follows.
    env = cast(Any, SimpleNamespace(next_state_name="Start", event_history_context=SimpleNamespace(source_event_id=1)))
    named = StateTaskServiceSfn._from_error(service, env, throttled)
    fixed = _sfn_error_names(StateTaskServiceSfn._from_error)(service, env, throttled)

    # When the first fails, moto names it once: drop _sfn_error_names from offline.emulator.moto_seams.
    assert named.error_name.error_name == "StepFunctions.ThrottlingExceptionException"
    assert fixed.error_name.error_name == "StepFunctions.ThrottlingException"


# ---- S3 → EventBridge ----------------------------------------------------------------------------------


def test_s3_notifications_are_sent_through_the_module_function() -> None:
    assert s3_models.notifications is s3_notifications
    assert parameters(s3_notifications.send_event) == ["account_id", "event_name", "bucket", "key"]
    assert "notifications.send_event(" in inspect.getsource(s3_models.FakeBucket) + inspect.getsource(
        s3_models.S3Backend.put_object
    )


def test_motos_own_s3_eventbridge_event_still_differs_from_s3s() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        events = boto3.client("events", region_name=REGION)
        queue = sqs.create_queue(QueueName="canary")["QueueUrl"]
        events.put_rule(Name="all", EventPattern=json.dumps({"source": ["aws.s3"]}))
        events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:123456789012:canary"}])
        s3.create_bucket(Bucket="canary-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_notification_configuration(
            Bucket="canary-bucket", NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        s3.put_object(Bucket="canary-bucket", Key="a.json", Body=b"{}")
        s3.put_object(Bucket="canary-bucket", Key="b.json", Body=b"{}")
        bodies = [
            json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        ]

    # S3 gives every event its own id, spells "etag" and names the API in "reason" (S3 user guide,
    # "EventBridge event message structure"). When these fail, moto matches S3: drop the S3 sink patch.
    assert len({body["id"] for body in bodies}) == 1 < len(bodies)
    assert "eTag" in bodies[0]["detail"]["object"]
    assert bodies[0]["detail"]["reason"] == "ObjectCreated"


def test_a_mocked_dynamodb_failure_still_loses_its_error_name() -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb import (
        StateTaskServiceDynamoDB,
    )

    assert parameters(StateTaskServiceDynamoDB._from_error) == ["self", "env", "ex"]
    assert parameters(FailureEventException.__init__) == ["self", "failure_event"]
    assert "failure_event" in parameters(FailureEventException.__init__)
    source = inspect.getsource(StateTaskServiceDynamoDB._from_error)
    # Anything but a ClientError becomes DynamoDB.AmazonDynamoDBException, a mocked Throw included. When
    # this fails, moto passes FailureEventException through: drop _keep_mocked_failures.
    assert "isinstance(ex, ClientError)" in source
    assert "FailureEventException" not in source
    assert FailureEvent is not None


def test_an_eventbridge_api_error_is_still_a_runtime_error_in_moto() -> None:
    put_to_a_missing_bus = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": {
                    "Entries": [{"EventBusName": "missing", "Source": "s", "DetailType": "d", "Detail": {}}]
                },
                "End": True,
            }
        },
    }

    described = run_unpatched(put_to_a_missing_bus)

    # AWS reports a failed PutEvents call as a task failure (retried by States.TaskFailed); moto as
    # States.Runtime, which no Retrier matches. When this fails, drop _event_errors_as_task_failures.
    assert (described["status"], described.get("error")) == ("FAILED", "States.Runtime"), described
    assert parameters(StateTaskServiceEvents._from_error) == ["self", "env", "ex"]


# ---- retry back-off ------------------------------------------------------------------------------------


def test_retriers_still_sleep_through_the_time_module_and_jitter_through_random() -> None:
    assert callable(retrier_decl.time.sleep)
    assert "time.sleep(interval_seconds)" in inspect.getsource(retrier_decl.RetrierDecl._eval_body)
    assert callable(jitter_strategy_decl.random.uniform)
    assert "random.uniform(0, interval_seconds)" in inspect.getsource(jitter_strategy_decl.JitterStrategyDecl)


def test_a_wait_state_still_blocks_its_thread_for_real_seconds_in_wait_interval() -> None:
    # VirtualWaits replaces WaitFunction._wait_interval(env, wait_seconds); moto blocks on the execution's
    # program_state_event there for the real seconds. When this fails, moto waits elsewhere (or not at all).
    assert parameters(WaitFunction._wait_interval) == ["self", "env", "wait_seconds"]
    assert "env.program_state_event.wait(wait_seconds)" in inspect.getsource(WaitFunction._wait_interval)
    assert "self._wait_interval(env=env, wait_seconds=w_sec)" in inspect.getsource(WaitFunction._eval_body)


def test_each_task_attempt_is_still_evaluated_through_evaluate_with_timeout_on_the_execution_s_thread() -> None:
    # ExpressTimeLimit.before_attempt wraps ExecutionState._evaluate_with_timeout, which _eval_state calls once per
    # attempt from the execution's thread (the attempt itself then runs on a thread of its own).
    assert parameters(ExecutionState._evaluate_with_timeout) == ["self", "env"]
    assert "self._evaluate_with_timeout(env)" in inspect.getsource(ExecutionState._eval_state)
    assert "Thread(target=_exec_and_notify" in inspect.getsource(ExecutionState._evaluate_with_timeout)


# ---- mocked responses ----------------------------------------------------------------------------------


def test_sf_mock_config_is_still_not_wired_but_the_worker_takes_a_test_case() -> None:
    # moto still loads no mock configuration: the injection in offline.emulator.moto_seams is still needed.
    assert mock_config.load_mock_test_case_for("any-machine", "AnyCase") is None
    assert parameters(Execution._get_start_execution_worker) == ["self"]
    assert "mock_test_case" in parameters(ExecutionWorker.__init__)
    assert "mock_test_case=self._mock_test_case" in inspect.getsource(ExecutionWorker._get_evaluation_environment)
    assert "mock_test_case" in parameters(Environment.__init__)
    assert callable(Environment.is_mocked_mode)
    assert callable(Environment.get_current_mocked_response)


def test_mock_config_classes_keep_their_constructors() -> None:
    assert parameters(mock_config.MockTestCase.__init__) == [
        "self",
        "state_machine_name",
        "test_case_name",
        "state_mocked_responses_list",
    ]
    assert parameters(mock_config.StateMockedResponses.__init__) == [
        "self",
        "state_name",
        "mocked_response_name",
        "mocked_responses",
    ]
    assert parameters(mock_config.MockedResponseReturn.__init__) == ["self", "range_start", "range_end", "payload"]
    assert parameters(mock_config.MockedResponseThrow.__init__) == [
        "self",
        "range_start",
        "range_end",
        "error",
        "cause",
    ]


# ---- waiting for executions ----------------------------------------------------------------------------


def test_interpreter_threads_are_listed_in_tmp_threads() -> None:
    assert isinstance(sfn_parser_utils.TMP_THREADS, list)
    assert "TMP_THREADS.append(" in inspect.getsource(ExecutionWorker.start)
    assert all(isinstance(thread, threading.Thread) for thread in sfn_parser_utils.TMP_THREADS)


def test_a_sync_task_still_polls_its_child_with_real_sleeps_through_the_time_module() -> None:
    # ExecutionEnds stands in for the module's time (its only use) and is woken by the communication's terminated().
    module = inspect.getsource(state_task_service_callback)
    assert re.findall(r"\btime\.\w+", module) == ["time.sleep"]
    assert "time.sleep(_DELAY_SECONDS_SYNC_CONDITION_CHECK)" in inspect.getsource(
        state_task_service_callback.StateTaskServiceCallback._eval_sync
    )
    assert parameters(BaseExecutionWorkerCommunication.terminated) == ["self"]
    assert "self._execution_communication.terminated()" in inspect.getsource(ExecutionWorker._execution_logic)
    assert "exec_status = ExecutionStatus.SUCCEEDED" in inspect.getsource(BaseExecutionWorkerCommunication)


def test_a_sync_tasks_pause_ends_when_an_execution_ends() -> None:
    ends = ExecutionEnds()
    sleeper = threading.Thread(target=ends.sleep, args=(600,), daemon=True)  # a failure must not hold the run
    sleeper.start()
    # Unpatched, the pause is time.sleep(600); here the first end after it began wakes it.
    give_up = time.monotonic() + 30
    while sleeper.is_alive() and time.monotonic() < give_up:
        ends.note_ended()
        sleeper.join(0.01)
    assert not sleeper.is_alive()


# ---- speed patches -------------------------------------------------------------------------------------


def test_definitions_are_parsed_through_the_parser_class() -> None:
    assert isinstance(inspect.getattr_static(AmazonStateLanguageParser, "parse"), staticmethod)
    assert parameters(AmazonStateLanguageParser.parse) == ["definition"]
    assert "AmazonStateLanguageParser.parse(" in inspect.getsource(ExecutionWorker._get_evaluation_entrypoint)
    assert "AmazonStateLanguageParser.parse(" in inspect.getsource(sfn_parser_models.StepFunctionsParserBackend)
    program, tree = AmazonStateLanguageParser.parse(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}))
    assert program is not None and tree is not None


def test_json_paths_are_parsed_by_module_level_functions() -> None:
    assert json_path.parse("$.a.b").find({"a": {"b": 1}})[0].value == 1
    assert "parse(" in inspect.getsource(json_path.extract_json)
    assert callable(result_path.parse)
    assert "parse(self.result_path_src)" in inspect.getsource(result_path)


def test_task_clients_are_created_through_the_boto3_module_attribute() -> None:
    source = inspect.getsource(boto_client.boto_client_for)
    assert "boto3.client(" in source
    assert all(name in source for name in ("service_name=service", "region_name=region"))


def test_service_tasks_call_their_client_by_api_method_name() -> None:
    # The fault seam wraps the methods a Task state calls: getattr(client, "<snake_case action>")(**parameters).
    for module in (state_task_service_dynamodb, state_task_service_events, state_task_service_aws_sdk):
        assert "getattr(" in inspect.getsource(module) and "boto_client_for(" in inspect.getsource(module)


def test_every_mocked_aws_call_goes_through_the_stubbers_process_request() -> None:
    assert parameters(BotocoreStubber.process_request) == ["self", "request"]
    assert "self.process_request(request)" in inspect.getsource(BotocoreStubber.__call__)
    assert "self.process_request(" in inspect.getsource(BotocoreStubber.process_prepared_request)


def test_moto_checks_a_dynamodb_condition_without_a_lock_of_its_own() -> None:
    # Why AWS calls are served one at a time: two threads could both pass a condition before either writes.
    # When moto applies a conditional write under its own lock, _one_call_at_a_time can go.
    source = inspect.getsource(dynamodb_models.Table.put_item)
    assert "condition_expression" in source
    assert "lock" not in source.lower()


# ---- SQS long polling ----------------------------------------------------------------------------------


def test_an_empty_long_poll_still_blocks_moto_for_real_seconds_waiting_on_the_queue() -> None:
    # _long_poll_without_idle_wait calls receive_message with wait 0 and reads Message.visible_at/delayed_until.
    assert parameters(SQSBackend.receive_message) == [
        "self",
        "queue_name",
        "count",
        "wait_seconds_timeout",
        "visibility_timeout",
        "message_attribute_names",
    ]
    source = inspect.getsource(SQSBackend.receive_message)
    assert "queue.wait_for_messages(1)" in source and "if wait_seconds_timeout == 0:" in source
    assert "self.visible_at = unix_time_millis() + visibility_timeout_msec" in inspect.getsource(sqs_models.Message)
    assert "self.delayed_until = unix_time_millis() + delay_msec" in inspect.getsource(sqs_models.Message)


def _long_poll(wait_seconds: int, visible_again_in: float | None) -> tuple[list[str], list[float]]:
    """Send one message, receive it, let it come back in ``visible_again_in`` s, then long-poll: (bodies, waits)."""
    waits: list[float] = []
    original_wait = sqs_models.Queue.wait_for_messages

    def recorded_wait(queue: Any, timeout: int) -> None:
        waits.append(timeout)
        original_wait(queue, timeout)

    with (
        mock_aws(config=MOTO_CONFIG),
        patched_moto(
            dispatcher=lambda name, payload: LambdaReply(),
            s3_event_sink=lambda event: None,
            eventbridge_buckets=frozenset(),
            seams=MotoSeams(),
        ),
    ):
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="parked")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="m")
        assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=60)["Messages"]
        if visible_again_in is not None:
            (message,) = sqs_backends["123456789012"][REGION].get_queue("parked")._messages
            message.visible_at = sqs_models.unix_time_millis() + visible_again_in * 1000
        sqs_models.Queue.wait_for_messages = recorded_wait  # type: ignore[method-assign]
        try:
            received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait_seconds).get("Messages", [])
        finally:
            sqs_models.Queue.wait_for_messages = original_wait  # type: ignore[method-assign]
    return [message["Body"] for message in received], waits


def test_an_empty_long_poll_answers_at_once_in_the_emulator() -> None:
    # The message is in flight for another minute: nothing can arrive within the 20 s wait. Unpatched, moto
    # blocks in Queue.wait_for_messages until the 20 s have passed.
    assert _long_poll(20, visible_again_in=None) == ([], [])


def test_a_long_poll_still_receives_a_message_whose_visibility_timeout_ends_within_the_wait() -> None:
    bodies, waits = _long_poll(2, visible_again_in=0.2)
    assert bodies == ["m"] and waits == []


# ---- readers and gaps the flow works around ------------------------------------------------------------


def test_iot_publishes_are_kept_on_the_backend() -> None:
    with mock_aws():
        client = boto3.client("iot-data", region_name=REGION)
        client.publish(topic="orders/a/b", qos=1, payload=b"{}")
        assert iotdata_backends["123456789012"][REGION].published_payloads == [("orders/a/b", b"{}")]


def test_moto_still_serves_only_the_generic_iot_data_host(system: RecordedSystem) -> None:
    recorded = system.function("notify").environment["IOT_DATA_ENDPOINT"]
    assert re.fullmatch(r"[a-z0-9]+-ats\.iot\.[a-z0-9-]+\.amazonaws\.com", recorded)
    # When moto routes account endpoints, handler_environment can keep the recorded value.
    assert not any(re.match(base, f"https://{recorded}") for base in iotdata_urls.url_bases)
    generic = MOTO_IOT_DATA_HOST.format(region=system.region)
    assert any(re.match(base, f"https://{generic}") for base in iotdata_urls.url_bases)
    assert handler_environment(system.function("notify"), system.region)["IOT_DATA_ENDPOINT"] == generic


def test_the_event_pattern_matcher_the_router_uses() -> None:
    assert parameters(EventPattern.load) == ["raw_pattern"]
    assert parameters(EventPattern.matches_event) == ["self", "event"]


def test_every_patch_is_undone_when_the_flow_ends(system: RecordedSystem) -> None:
    before = [inspect.getattr_static(owner, name) for owner, name in PATCHED_ATTRIBUTES]

    with running_flow(system):
        during = [inspect.getattr_static(owner, name) for owner, name in PATCHED_ATTRIBUTES]

    after = [inspect.getattr_static(owner, name) for owner, name in PATCHED_ATTRIBUTES]
    assert all(patched is not original for patched, original in zip(during, before, strict=True))
    assert all(restored is original for restored, original in zip(after, before, strict=True))
