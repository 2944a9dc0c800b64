"""A program that fails while the users pool waits on the order page's URL reports the error at once.

Run the way the language host runs it (the SDK's ``run_pulumi_func``, nothing cancelled for it), in a child
process: before ``components.deferred``, this case waited forever instead of printing the error.
"""

from __future__ import annotations

import subprocess
import sys

from offline.paths import PROJECT_DIR

# The site component fails as a bad argument would make it, once the pool and the API are registered.
SCRIPT = """
import runpy
import pulumi
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from components.static_site import StaticSite
from offline.harness import RecordingMonitor, load_stack_config
from offline.mocks import AwsMocks
import sys
from offline.paths import PROJECT_DIR


def refuse(self, name, args, opts=None):
    raise ValueError(f"{name}: aliases ['shop.example.com'] need a certificate_arn")


StaticSite.__init__ = refuse
config = load_stack_config("dev")
mocks = AwsMocks(config["aws:region"], stack="dev")
monitor = RecordingMonitor(mocks, "orderflow", "dev", config["aws:region"], config=config)
pulumi.runtime.set_all_config(config)
pulumi.runtime.set_mocks(mocks, project="orderflow", stack="dev", preview=True, monitor=monitor)
sys.path.insert(0, str(PROJECT_DIR))  # as the language host runs the program: its folder first
try:
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")))
except Exception as error:
    print("error:", error)
print("registered:", sorted({record.type for record in monitor.records}))
"""


def test_a_failure_before_the_site_exists_is_reported_not_waited_on() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=PROJECT_DIR, capture_output=True, text=True, check=False, timeout=180
    )
    assert result.returncode == 0, result.stderr
    [error] = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert error == (
        "error: the order page's URL was not made: the program failed first: "
        "ValueError(\"web: aliases ['shop.example.com'] need a certificate_arn\")"
    )
    [registered] = [line for line in result.stdout.splitlines() if line.startswith("registered:")]
    # The pool and the API went out before the failure; the client, which waited on the URL, did not.
    assert "'aws:cognito/userPool:UserPool'" in registered and "'aws:apigatewayv2/api:Api'" in registered
    assert "'aws:cognito/userPoolClient:UserPoolClient'" not in registered
