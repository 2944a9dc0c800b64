"""Every resource rule against its compliant baseline and one mutation per case (see ``policy_cases``)."""

from __future__ import annotations

import pytest
from policy_cases import CASES, Case
from policy_testkit import findings


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.rule}[{case.id}]")
def test_policy_resource_rule_case(case: Case) -> None:
    found = findings(case.rule, case.type, case.props, case.config)
    if case.fails:
        assert found, f"{case.rule} stayed silent on {case.id}"
        assert any(case.contains in message for message in found), found
    else:
        assert found == [], found
