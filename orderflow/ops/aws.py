"""boto3 clients for one stack, and AWS errors turned into an operator's next step.

A refused call names the IAM action that is missing (``states:RedriveExecution``), taken from AWS's own
message when it says it, otherwise from the operation and the service's IAM prefix.
"""

from __future__ import annotations

import re
from typing import Any, Final

import boto3
from botocore.exceptions import ClientError, NoCredentialsError, ProfileNotFound

EXIT_OK: Final = 0
EXIT_NOT_DONE: Final = 1
"""The command ran but could not do what was asked (e.g. an execution that cannot be redriven)."""
EXIT_USAGE: Final = 2
"""Wrong arguments, wrong or unknown stack, outputs of another stack, wrong account or region."""
EXIT_PERMISSION: Final = 3
"""AWS refused a call: the message names the IAM action."""
EXIT_AWS: Final = 4
"""Any other AWS error."""
EXIT_INTERRUPTED: Final = 130
"""Ctrl-C: what was done is reported, nothing in flight is lost."""

ACCESS_DENIED_CODES: Final = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "AuthorizationErrorException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
    }
)
# IAM action prefixes that differ from botocore's service name.
_IAM_PREFIX: Final = {"stepfunctions": "states", "cloudwatch": "cloudwatch"}
_ACTION_IN_MESSAGE: Final = re.compile(r"perform: ([a-z0-9-]+:[A-Za-z0-9]+)")


class OpsError(Exception):
    """An error the operator can act on; ``exit_code`` is the command's exit status."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def is_access_denied(error: ClientError) -> bool:
    """Whether AWS refused the call for lack of permission."""
    return str(error.response.get("Error", {}).get("Code", "")) in ACCESS_DENIED_CODES


def error_code(error: ClientError) -> str:
    """The AWS error code of a failed call."""
    return str(error.response.get("Error", {}).get("Code", ""))


class Aws:
    """boto3 clients in the stack's account and region, one per service.

    Parameters
    ----------
    session:
        A boto3 session for the stack's region (and profile).
    """

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.region = str(session.region_name)
        self._clients: dict[str, Any] = {}
        self._operations: dict[str, str] = {}

    @classmethod
    def connect(cls, region: str, profile: str | None) -> Aws:
        """A session for ``region`` with ``profile`` (or the default credential chain).

        Raises
        ------
        OpsError
            When the profile does not exist.
        """
        try:
            return cls(boto3.Session(profile_name=profile, region_name=region))
        except ProfileNotFound as error:
            named = error.kwargs.get("profile", profile)
            raise OpsError(f"AWS profile {named!r} not found in ~/.aws/config or ~/.aws/credentials") from error

    def client(self, service: str) -> Any:
        """The client for ``service`` (``sqs``, ``stepfunctions``, ``events``...)."""
        if service not in self._clients:
            client = self.session.client(service)
            prefix = _IAM_PREFIX.get(service, client.meta.service_model.endpoint_prefix)
            for operation in client.meta.service_model.operation_names:
                self._operations.setdefault(operation, prefix)
            self._clients[service] = client
        return self._clients[service]

    def use(self, service: str, client: Any) -> None:
        """Use ``client`` for ``service`` (e.g. a client wrapped by botocore's Stubber in a test)."""
        self.client(service)
        self._clients[service] = client

    def iam_action(self, error: ClientError) -> str:
        """The IAM action a refused call needed, e.g. ``sqs:ReceiveMessage``."""
        said = _ACTION_IN_MESSAGE.search(str(error.response.get("Error", {}).get("Message", "")))
        if said:
            return said.group(1)
        operation = error.operation_name
        return f"{self._operations.get(operation, '?')}:{operation}"

    def account(self) -> str:
        """The account these credentials act in.

        Raises
        ------
        OpsError
            When no credentials are found.
        """
        try:
            return str(self.client("sts").get_caller_identity()["Account"])
        except NoCredentialsError as error:
            raise OpsError(
                "no AWS credentials found: pass --profile NAME, or set AWS_PROFILE or AWS_ACCESS_KEY_ID"
            ) from error
