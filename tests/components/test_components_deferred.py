"""``components.deferred.deferred_output``: a program that fails inside the block reports its error at once.

Each case runs a small program the way the language host does (``run_pulumi_func``, no harness cancelling
anything) in a child process, so a program that would wait forever shows as a timeout, not a stuck suite.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from offline.paths import PROJECT_DIR

RUNNER = """
import json
import pulumi
import pulumi_aws as aws
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from offline.harness import RecordingMonitor
from offline.mocks import AwsMocks
from components.deferred import deferred_output

mocks = AwsMocks("eu-west-1", stack="test")
monitor = RecordingMonitor(mocks, "probe", "test", "eu-west-1")
pulumi.runtime.set_all_config({{"aws:region": "eu-west-1"}})
pulumi.runtime.set_mocks(mocks, project="probe", stack="test", preview=False, monitor=monitor)


def program():
{body}


try:
    _sync_await(run_pulumi_func(program))
    print("error: none")
except Exception as error:
    print(f"error: {{type(error).__name__}}: " + " | ".join(str(error).splitlines()))
topics = {{r.name: r.inputs.get("displayName") for r in monitor.records if r.type == "aws:sns/topic:Topic"}}
print("topics:", json.dumps(topics, sort_keys=True))
"""


STUCK_AFTER_SECONDS = 2
"""How long after the raise a run counts as stuck: the helper's failing runs end well within it (0.25-0.7 s
measured on 2 cores at load 10)."""


def run(body: str, timeout: float = 120) -> dict[str, str]:
    """Run ``body`` as a program; its printed ``error`` and registered ``topics`` (name → display name)."""
    script = RUNNER.format(body=textwrap.indent(textwrap.dedent(body).strip(), "    "))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True, check=False, timeout=timeout
    )
    assert result.returncode == 0, result.stderr
    return dict(line.split(": ", 1) for line in result.stdout.splitlines() if line.startswith(("error", "topics")))


def test_a_resolved_output_reaches_the_resource_that_waited_for_it() -> None:
    printed = run(
        """
        with deferred_output("the site's URL") as (site_url, resolve_site_url):
            aws.sns.Topic("waiting", display_name=site_url)
            resolve_site_url(aws.sns.Topic("site", display_name="https://d111.cloudfront.net").display_name)
        """
    )
    assert printed == {
        "error": "none",
        "topics": '{"site": "https://d111.cloudfront.net", "waiting": "https://d111.cloudfront.net"}',
    }


def test_a_program_failing_inside_the_block_reports_its_own_error_and_sends_nothing_that_waited() -> None:
    printed = run(
        """
        with deferred_output("the site's URL") as (site_url, resolve_site_url):
            aws.sns.Topic("waiting", display_name=site_url)
            aws.sns.Topic("independent", display_name="registered before the failure")
            raise ValueError("function 'notify' has no option 'memroy_size'")
        """
    )
    # What the engine reports is the waiting registration's error, which quotes the program's own.
    assert printed == {
        "error": "DeferredOutputError: the site's URL was not made: the program failed first: "
        "ValueError(\"function 'notify' has no option 'memroy_size'\")",
        "topics": '{"independent": "registered before the failure"}',
    }


def test_a_block_that_forgets_to_resolve_fails_naming_the_output() -> None:
    printed = run(
        """
        with deferred_output("the site's URL") as (site_url, resolve_site_url):
            aws.sns.Topic("waiting", display_name=site_url)
        """
    )
    assert printed == {
        "error": "DeferredOutputError: the site's URL was never resolved: call its resolver before the block ends",
        "topics": "{}",
    }


def test_canary_the_sdk_alone_waits_forever_on_a_deferred_output_left_pending() -> None:
    # Why the helper exists: with pulumi.deferred_output() itself, the same failure never gets reported. The
    # child says when the program raises (after its imports, however long those take on a loaded machine);
    # from there the helper's run reports within milliseconds, so a run still going seconds later is stuck.
    script = RUNNER.format(
        body=textwrap.indent(
            textwrap.dedent(
                """
                site_url, resolve_site_url = pulumi.deferred_output()
                aws.sns.Topic("waiting", display_name=site_url)
                print("raising", flush=True)
                raise ValueError("function 'notify' has no option 'memroy_size'")
                """
            ).strip(),
            "    ",
        )
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        try:
            assert child.stdout.readline() == "raising\n", child.stderr.read() if child.stderr else ""
            with pytest.raises(subprocess.TimeoutExpired):
                child.wait(timeout=STUCK_AFTER_SECONDS)
        finally:
            child.kill()
