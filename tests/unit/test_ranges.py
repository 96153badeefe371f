"""The range syntax of --depth, --width and --batch."""

import pytest

from bench.errors import UserError
from bench.sweep.ranges import parse_range


@pytest.mark.parametrize(
    "text, expected",
    [
        ("8", [8]),
        (" 8 ", [8]),
        ("1,2,4,16", [1, 2, 4, 16]),
        ("4,1,2,4", [1, 2, 4]),  # sorted, duplicates dropped
        ("2:20:2", [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]),  # stop included
        ("2:9:3", [2, 5, 8]),  # stop not reached
        ("3:5", [3, 4, 5]),  # step defaults to 1
        ("5:5:1", [5]),
        ("1:64:x2", [1, 2, 4, 8, 16, 32, 64]),
        ("1:16:x2", [1, 2, 4, 8, 16]),
        ("3:100:x3", [3, 9, 27, 81]),
        ("1:10:x1.5", [1, 2, 3, 5, 8]),  # rounded, strictly increasing
        ("4:4:x2", [4]),
    ],
)
def test_parse_range(text, expected):
    assert parse_range(text, "--depth") == expected


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("0", "below the minimum 1"),
        ("-3", "below the minimum 1"),
        ("abc", "'abc' is not an integer"),
        ("", "empty range"),
        ("1,,2", "'' is not an integer"),
        ("1.5", "'1.5' is not an integer"),
        ("5:1", "stop 1 is below start 5"),
        ("1:8:x1", "factor must be greater than 1"),
        ("1:8:x0.5", "factor must be greater than 1"),
        ("1:8:xz", "factor 'z' is not a number"),
        ("1:8:0", "step must be a positive integer"),
        ("1:8:-2", "step must be a positive integer"),
        ("0:8:x2", "must start at 1 or more"),
        ("1:2:3:4", "expected start:stop:step"),
        ("0:3", "0 is below the minimum 1"),
    ],
)
def test_bad_range_names_the_problem(text, fragment):
    with pytest.raises(UserError) as e:
        parse_range(text, "--width")
    message = str(e.value)
    assert fragment in message
    assert message.startswith("--width")
    assert "\n" not in message


def test_minimum_is_configurable():
    assert parse_range("0:2", "--seed", minimum=0) == [0, 1, 2]


@pytest.mark.parametrize("text", ["1:10001", "1:99999999999999999", "1:9999999999:x1.0000001",
                                  ",".join(str(v) for v in range(1, 10_002))])
def test_more_than_ten_thousand_values_is_refused_at_once(text):
    with pytest.raises(UserError, match="more than 10,000 values"):
        parse_range(text, "--width")


def test_ten_thousand_values_and_a_factor_near_one_are_fine():
    assert len(parse_range("1:10000", "--width")) == 10_000
    # one value per integer
    assert parse_range("1:5000:x1.0000001", "--width") == list(range(1, 5001))
