"""The Dutch citizen service number (BSN) and its 11-test."""

from __future__ import annotations

# Weights of the 11-test ("elfproef") for a BSN; the last digit counts negative.
WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def is_valid_bsn(value: str) -> bool:
    """Nine digits whose weighted sum is divisible by 11, and not all zeros."""
    if len(value) != 9 or not value.isdigit() or value == "000000000":
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value, WEIGHTS, strict=True))
    return total % 11 == 0
