"""Every environment variable a handler reads is set by the program for that function, and no other."""

from __future__ import annotations

from offline.recording import ProgramRun
from tests.handlers.env_contract import RUNTIME_PREFIXES, env_vars_read_by


def test_each_function_gets_exactly_the_variables_its_code_reads(stack_run: ProgramRun) -> None:
    functions = stack_run.of_type("aws:lambda/function:Function")
    assert len(functions) == 12
    for fn in functions:
        package = fn.inputs["handler"].split(".", 1)[0]
        variables = fn.inputs["environment"]["variables"]
        configured = {name for name in variables if not name.startswith(RUNTIME_PREFIXES)}
        assert configured == env_vars_read_by(package), package
        assert all(value for value in variables.values()), f"{package} has an empty variable"


def test_each_function_names_itself_for_powertools(stack_run: ProgramRun) -> None:
    for fn in stack_run.of_type("aws:lambda/function:Function"):
        variables = fn.inputs["environment"]["variables"]
        assert variables["POWERTOOLS_SERVICE_NAME"] == fn.inputs["handler"].split(".", 1)[0]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "orderflow"
        assert variables["POWERTOOLS_LOG_LEVEL"] == stack_run.config["orderflow:logLevel"]
