from __future__ import annotations

import pytest
from stdnum import luhn

from engine import Engine
from engine.entities import EntityType
from engine.policy import Action, Blocked, Mode, Policy, PolicyError

KNOWN = {t.value for t in EntityType}
TEXT = "Mail jane.doe@acme-corp.com or support@doppel.example, card 4539 1488 0343 6467."


def policy(**spec: object) -> Policy:
    return Policy.from_dict("test", spec, KNOWN)


def test_each_action(engine: Engine) -> None:
    p = policy(actions={"EMAIL": "placeholder", "CREDIT_CARD": "redact"})
    session = engine.session(p)
    masked = session.mask(TEXT)
    assert masked == "Mail [EMAIL_1] or [EMAIL_2], card [CREDIT_CARD]."
    # placeholders come back, one-way redactions do not
    assert session.restorer().restore(masked) == (
        "Mail jane.doe@acme-corp.com or support@doppel.example, card [CREDIT_CARD]."
    )


def test_allow_action_and_allow_list(engine: Engine) -> None:
    assert "4539 1488 0343 6467" in engine.session(policy(actions={"CREDIT_CARD": "allow"})).mask(
        TEXT
    )
    masked = engine.session(policy(allow=["support@doppel.example"])).mask(TEXT)
    assert "support@doppel.example" in masked and "jane.doe@acme-corp.com" not in masked
    masked = engine.session(policy(allow=[r"re:.*@doppel\.example"])).mask(TEXT)
    assert "support@doppel.example" in masked


def test_block(engine: Engine) -> None:
    session = engine.session(policy(actions={"CREDIT_CARD": "block"}))
    with pytest.raises(Blocked) as info:
        session.mask(TEXT)
    assert info.value.types == {"CREDIT_CARD"}
    assert "4539" not in str(info.value)


def test_deny_list_always_masked(engine: Engine) -> None:
    session = engine.session(policy(deny=["Project Nightingale", r"re:ACME-\d{4}"]))
    masked = session.mask("Status of project nightingale and ACME-2024?")
    assert "nightingale" not in masked.lower() and "ACME-2024" not in masked
    assert session.restorer().restore(masked) == "Status of project nightingale and ACME-2024?"


def test_custom_type_with_validator_and_format(engine: Engine) -> None:
    p = policy(
        custom_types=[
            {
                "name": "EMPLOYEE_ID",
                "pattern": r"\bEMP-\d{8}\b",
                "validator": "luhn",
                "double_format": "EMP-########",
            }
        ]
    )
    valid = "EMP-" + "1234567" + luhn.calc_check_digit("1234567")
    invalid = "EMP-" + "1234567" + str((int(luhn.calc_check_digit("1234567")) + 1) % 10)
    session = engine.session(p)
    masked = session.mask(f"ids {valid} and {invalid}")
    assert valid not in masked and invalid in masked
    double = masked.split()[1]
    assert double.startswith("EMP-") and len(double) == len(valid)
    assert engine.session(p).mask(f"ids {valid} and {invalid}") == masked  # keyed, consistent
    assert session.restorer().restore(masked) == f"ids {valid} and {invalid}"


def test_thresholds(engine: Engine) -> None:
    masked = engine.session(policy(thresholds={"EMAIL": 1.0})).mask(TEXT)
    assert "jane.doe@acme-corp.com" in masked  # every e-mail detection scores below 1.0


def test_monitor_mode_counts_and_changes_nothing(engine: Engine) -> None:
    session = engine.session(policy(mode="monitor", actions={"CREDIT_CARD": "block"}))
    assert session.mask(TEXT) == TEXT
    assert session.counts == {"EMAIL": 2, "CREDIT_CARD": 1}
    assert session.policy.mode is Mode.MONITOR


def test_tenants_get_different_doubles(engine: Engine) -> None:
    a = engine.session(tenant="team-a").mask(TEXT)
    b = engine.session(tenant="team-b").mask(TEXT)
    assert a != b
    assert engine.session(tenant="team-a").mask(TEXT) == a
    # a double of one tenant does not restore in another tenant's exchange
    other = engine.session(tenant="team-b")
    other.mask("nothing personal")
    assert other.restorer().restore(a) == a


@pytest.mark.parametrize(("spec", "message"), [
    ({"actions": {"EMAIL": "shred"}}, "policies.test.actions.EMAIL: must be one of double"),
    ({"actions": {"EMAILS": "double"}}, "policies.test.actions.EMAILS: unknown entity type"),
    ({"mode": "audit"}, "policies.test.mode: must be one of enforce, monitor"),
    ({"thresholds": {"EMAIL": 2}}, "policies.test.thresholds.EMAIL: must be between 0 and 1"),
    ({"allow": "x"}, "policies.test.allow: must be a list"),
    ({"deny": ["re:("]}, "policies.test.deny: bad pattern"),
    ({"custom_types": [{"name": "x", "pattern": "a"}]}, "name: use a new UPPER_CASE name"),
    ({"custom_types": [{"name": "EMAIL", "pattern": "a"}]}, "name: use a new UPPER_CASE name"),
    ({"custom_types": [{"name": "X_ID", "pattern": "("}]}, "custom_types[0].pattern"),
    ({"custom_types": [{"name": "X_ID", "pattern": "a", "validator": "nope"}]},
     "no python-stdnum module"),
    ({"colour": "red"}, "policies.test.colour: unknown key"),
])  # fmt: skip
def test_invalid_policies_name_the_key(spec: dict, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        policy(**spec)
    assert message in str(info.value)


def test_actions_default() -> None:
    p = policy(default_action="placeholder", actions={"URL": "allow"})
    assert p.action("EMAIL") is Action.PLACEHOLDER and p.action("URL") is Action.ALLOW
