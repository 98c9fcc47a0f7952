import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import MoneyFormatError, format_euros, parse_euros


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1500000", 150_000_000),
        ("1 500 000", 150_000_000),
        ("1\u202f500\u202f000", 150_000_000),
        ("1500000.50", 150_000_050),
        ("1 500 000,50 €", 150_000_050),
        ("1 500 000,5", 150_000_050),
        ("0,01", 1),
        ("12 EUR", 1200),
        ("0", 0),
    ],
)
def test_parse_accepts_unambiguous_amounts(text: str, cents: int) -> None:
    assert parse_euros(text) == cents


@pytest.mark.parametrize(
    "text",
    ["", "-5", "−5", "1,500,000.00", "1.500.000", "1 500 000,505", "12 34", "abc", "1e6", "1 50 000", "1_000"],
)
def test_parse_refuses_ambiguous_or_negative_amounts(text: str) -> None:
    with pytest.raises(MoneyFormatError):
        parse_euros(text)


@given(st.integers(min_value=0, max_value=10**15))
def test_format_then_parse_gives_the_amount_back(cents: int) -> None:
    assert parse_euros(format_euros(cents)) == cents


def test_format_is_french() -> None:
    assert format_euros(150_000_000) == "1 500 000,00 €"


@pytest.mark.parametrize("loose", [1500.0, 1500.5, "1500", True, -1])
def test_an_amount_in_a_model_is_a_whole_non_negative_integer(loose: object) -> None:
    from pydantic import ValidationError

    from domain.values import YearAmounts

    with pytest.raises(ValidationError) as refused:
        YearAmounts.model_validate({"etat": loose, "collectivite": 1500})
    assert refused.value.errors()[0]["loc"] == ("etat",)
    assert YearAmounts.model_validate_json('{"etat": 1500, "collectivite": 1500}').etat == 1500
