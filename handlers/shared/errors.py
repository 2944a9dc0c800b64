"""Domain errors raised by the workflow steps, and the mapping of AWS failures to a retryable one.

Lambda reports a raised exception's class name as the error type, and Step Functions matches its
Retry and Catch rules on that name: the class names below are the contract (docs/contracts.md,
Workflow payloads). Keep them exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError
from botocore.exceptions import ReadTimeoutError as BotocoreReadTimeoutError


class OutOfStock(Exception):  # noqa: N818 - the class name is the Step Functions error name
    """Not enough stock for at least one SKU (business failure: the workflow compensates)."""


class PaymentDeclined(Exception):  # noqa: N818 - the class name is the Step Functions error name
    """The payment provider declined the charge (business failure: the workflow compensates)."""


class TransientDependencyError(Exception):
    """A dependency was throttled or unavailable; retrying the same step later may succeed."""


# Error codes that mean "try again later" rather than "this request is wrong".
TRANSIENT_ERROR_CODES: Final = frozenset(
    {
        "InternalServerError",
        "InternalFailure",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ThrottledException",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
_NETWORK_ERRORS: Final = (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    BotocoreReadTimeoutError,
)


def is_transient(error: ClientError) -> bool:
    """Whether an AWS error is worth retrying: throttling, a conflict, or any 5xx.

    Parameters
    ----------
    error:
        The error raised by a boto3 client.

    Returns
    -------
    bool
        True for throttling/transient error codes and HTTP status 500 and above.
    """
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in TRANSIENT_ERROR_CODES or status >= 500


@contextmanager
def transient_dependency_errors(dependency: str) -> Iterator[None]:
    """Turn throttling, 5xx and network failures inside the block into :class:`TransientDependencyError`.

    Other client errors (validation, access denied, ...) propagate unchanged: retrying them cannot help.

    Parameters
    ----------
    dependency:
        What was being called, for the error message (e.g. ``"inventory table"``).

    Raises
    ------
    TransientDependencyError
        Chained to the original error.
    """
    try:
        yield
    except ClientError as error:
        if is_transient(error):
            code = error.response.get("Error", {}).get("Code", "unknown")
            raise TransientDependencyError(f"{dependency} is unavailable ({code}); retry later") from error
        raise
    except _NETWORK_ERRORS as error:
        raise TransientDependencyError(f"{dependency} is unreachable ({type(error).__name__}); retry later") from error
