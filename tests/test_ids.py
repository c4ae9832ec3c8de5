from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from htx_cancel._ids import chunk, validate_choice, validate_contract_code, validate_ids


@pytest.mark.parametrize(
    ("bad", "shown"),
    [("", "empty"), ("12a", "'12a'"), ("1,2", "'1,2'"), ("1 2", "'1 2'"), (" 12", "' 12'"),
     ("-5", "'-5'"), ("+5", "'+5'"), ("0", "'0'"), ("007", "'007'"), ("١٢", "'١٢'"),
     (1.5, "1.5"), (True, "True"), (None, "None"), (0, "'0'"), ("9223372036854775808", "out of"),
     ("12345678901234567890", "out of")],
)
def test_bad_ids_are_named(bad: object, shown: str) -> None:
    with pytest.raises(ValueError, match=shown if shown[0] != "'" else shown.replace("+", r"\+")):
        validate_ids(["1", bad])


def test_ints_become_strings_and_duplicates_go() -> None:
    big = 1234567890123456789
    assert validate_ids([big, "5", str(big), 5, "6"]) == [str(big), "5", "6"]
    assert validate_ids(["9223372036854775807"]) == ["9223372036854775807"]


def test_a_single_string_is_not_a_list_of_ids() -> None:
    with pytest.raises(ValueError, match="sequence"):
        validate_ids("12345")


def test_contract_code() -> None:
    assert validate_contract_code(" btc-usdt ") == "BTC-USDT"
    for bad in ("", "  ", None, "BTC USDT", "BTC,USDT"):
        with pytest.raises(ValueError, match="contract_code"):
            validate_contract_code(bad)


def test_choice() -> None:
    assert validate_choice("direction", None, ("buy", "sell")) is None
    assert validate_choice("direction", "buy", ("buy", "sell")) == "buy"
    with pytest.raises(ValueError, match="'up'"):
        validate_choice("direction", "up", ("buy", "sell"))


@given(ids=st.lists(st.integers(1, 2**63 - 1).map(str)), size=st.integers(1, 30))
def test_chunking_partitions_in_order_with_no_batch_over_size(ids: list[str], size: int) -> None:
    ids = validate_ids(ids)
    batches = chunk(ids, size)
    assert [i for b in batches for i in b] == ids
    assert all(1 <= len(b) <= size for b in batches)
    assert all(len(b) == size for b in batches[:-1])


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        chunk(["1"], 0)


@given(st.text(alphabet="0123456789٣ ,+-x", max_size=21) | st.integers(-5, 2**64).map(str))
def test_the_fast_path_agrees_with_the_full_check(text: str) -> None:
    from htx_cancel._ids import _normalise

    try:
        expected = [_normalise(text, "order_id")]
    except ValueError:
        with pytest.raises(ValueError):
            validate_ids([text])
    else:
        assert validate_ids([text]) == expected
