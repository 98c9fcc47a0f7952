import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.request_log import RequestIds
from domain.state import ContractState


def test_views_never_see_later_ids_and_branches_are_independent() -> None:
    root = RequestIds(["a"])
    left = root.add("b")
    right = root.add("c")  # a branch from an older view: must not see "b"
    assert list(left) == ["a", "b"] and list(right) == ["a", "c"]
    assert "b" not in root and "b" not in right and "c" not in left
    assert left.add("a") is left  # a known id changes nothing
    assert len(left.add("d").add("e")) == 4 and list(left) == ["a", "b"]


@given(st.lists(st.sampled_from("abcdefgh"), max_size=30))
def test_same_as_a_set(ids: list[str]) -> None:
    view = RequestIds()
    for request_id in ids:
        view = view.add(request_id)
    assert set(view) == set(ids) and len(view) == len(set(ids))
    assert list(view) == list(dict.fromkeys(ids))  # first-seen order


def test_state_round_trips_through_json() -> None:
    state = ContractState(request_ids=RequestIds(["r1", "r2"]))
    again = ContractState.model_validate_json(state.model_dump_json())
    assert again == state and "r2" in again.request_ids
    assert state.model_dump(mode="json")["request_ids"] == ["r1", "r2"]


def test_a_key_reused_for_another_request_is_seen_but_not_by_older_views() -> None:
    from domain.request_log import keyed_request_id

    first = keyed_request_id("k-1", {"type": "Suspend", "reason": "audit"})
    other = keyed_request_id("k-1", {"type": "Resume"})
    assert first.startswith("k-1#") and first != other
    assert first == keyed_request_id("k-1", {"reason": "audit", "type": "Suspend"})  # order does not matter
    before = RequestIds(["plain-uuid"])
    after = before.add(first)
    assert after.key_reused(other) and not after.key_reused(first)  # the same request again is not a reuse
    assert not before.key_reused(other)  # an older state never saw the key
    assert not after.key_reused("plain-uuid-2") and not after.key_reused(keyed_request_id("k-2", {}))
    rebuilt = RequestIds(list(after))  # what a state read back from JSON holds
    assert rebuilt.key_reused(other)


def test_the_decider_refuses_a_key_reused_for_a_different_command() -> None:
    from domain.errors import IdempotencyKeyReused
    from domain.request_log import keyed_request_id
    from tests.unit.builders import COMMISSAIRE_75, PREFET_33, at, bordeaux_in_execution, command

    contract = bordeaux_in_execution()
    suspend = command("Suspend", contract.contract_id, COMMISSAIRE_75, at(2024, 6, 1), reason="enquête")

    def keyed(cmd):  # type: ignore[no-untyped-def]
        content = cmd.model_dump(mode="json", exclude={"request_id", "at"})
        return cmd.model_copy(update={"request_id": keyed_request_id("op-42", content)})

    recorded = contract.send(keyed(suspend))
    assert [e.type for e in recorded] == ["ContractSuspended"]
    assert contract.send(keyed(suspend.model_copy(update={"at": at(2024, 6, 2)}))) == []  # a retry: nothing new
    terminate = command("Terminate", contract.contract_id, PREFET_33, at(2024, 6, 3), reason="fin")
    version = contract.state.version
    with pytest.raises(IdempotencyKeyReused) as refused:
        contract.send(keyed(terminate))
    assert refused.value.field == "request_id" and "op-42" in refused.value.message
    assert contract.state.version == version
