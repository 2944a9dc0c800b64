"""A ``pulumi.deferred_output`` that a failed program cannot leave pending.

The SDK reports a program's exception only after every registration it started has finished. A resource
waiting on a deferred output that the failed rest of the program was to resolve never finishes, so
``pulumi preview``/``up`` would wait forever instead of printing the error. :func:`deferred_output` makes
it fail instead, with an error that carries the program's own: the registrations that waited are not sent,
and the engine reports that error at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import pulumi

T = TypeVar("T")


class DeferredOutputError(RuntimeError):
    """A deferred output was not resolved: its block forgot to, or the program failed first."""


@contextmanager
def deferred_output(description: str) -> Iterator[tuple[pulumi.Output[Any], Callable[[pulumi.Input[Any]], None]]]:
    """An output, and its resolver, that the ``with`` block must call before it ends.

    Parameters
    ----------
    description:
        What the output is (``"the order page's URL"``), for the error when the block forgets to resolve it.

    Yields
    ------
    tuple
        The output, usable at once as any resource's input, and ``resolve(value)`` that gives it its value.

    Raises
    ------
    DeferredOutputError
        When the block ends normally without calling ``resolve`` (what waited on the output fails with it too).
        When the block raises first, that exception propagates, and what waited on the output fails with a
        ``DeferredOutputError`` quoting it (the one the engine reports: it is a registration's).

    Examples
    --------
    >>> with deferred_output("the site's URL") as (site_url, resolve_site_url):  # doctest: +SKIP
    ...     pool = Identity("users", IdentityArgs(callback_urls=[site_url]))
    ...     site = StaticSite("web", StaticSiteArgs(...))
    ...     resolve_site_url(site.url)
    """
    output: pulumi.Output[Any]
    resolve_with: Callable[[pulumi.Output[Any]], None]
    output, resolve_with = pulumi.deferred_output()
    resolved = False

    def resolve(value: pulumi.Input[Any]) -> None:
        nonlocal resolved
        resolved = True
        resolve_with(pulumi.Output.from_input(value))

    try:
        yield output, resolve
    except BaseException as error:
        if not resolved:
            failure = DeferredOutputError(f"{description} was not made: the program failed first: {error!r}")
            failure.__cause__ = error
            resolve_with(_failing(failure))
        raise
    if not resolved:
        forgotten = DeferredOutputError(f"{description} was never resolved: call its resolver before the block ends")
        resolve_with(_failing(forgotten))
        raise forgotten


def _failing(error: DeferredOutputError) -> pulumi.Output[Any]:
    """An output that fails with ``error`` (not a ``ValueError``, which the SDK would wrap per registration)."""

    def fail(_: object) -> NoReturn:
        raise error

    return pulumi.Output.from_input(None).apply(fail)
