import pytest

from signals_service.domain.bsn import is_valid_bsn


@pytest.mark.parametrize(
    "number",
    ["111222333", "123456782", "999990019", "999991772"],
)
def test_numbers_passing_the_11_test_are_valid(number):
    assert is_valid_bsn(number)


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("111222334", "checksum off by one"),
        ("123456789", "fails the 11-test"),
        ("000000000", "all zeros passes the arithmetic but is not a BSN"),
        ("12345678", "eight digits"),
        ("1234567890", "ten digits"),
        ("12345678a", "not only digits"),
        ("", "empty"),
        (" 11122233", "space"),
    ],
)
def test_invalid_numbers_are_refused(number, why):
    assert not is_valid_bsn(number), why
