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
