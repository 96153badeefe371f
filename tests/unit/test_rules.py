"""The fit-rule grammar: good rules parsed, bad ones refused by the parser and the fitting alike."""

import pytest

from bench import fit, rules
from bench.errors import UserError


@pytest.mark.parametrize("rule", ["upper:0", "upper:-5", "upper:inf", "upper:", "top:0", "top:-1",
                                  "top:1.5", "top:x", "ratio:nan", "ratio:0", "all:3", "offset:2",
                                  "median", ""])
def test_parse_rule_refuses_bad_rules(rule):
    with pytest.raises(UserError, match="bad fit rule"):
        rules.parse(rule)
    with pytest.raises(UserError, match="bad fit rule"):
        fit.fit_points([1, 2, 4, 8], [1, 2, 4, 8], rule)  # the same check guards the fitting


def test_parse_rule_reads_good_rules():
    assert rules.parse("upper:8") == ("upper", 8.0)
    assert rules.parse("ratio:2.5") == ("ratio", 2.5)
    assert rules.parse("top:3") == ("top", 3)
    assert rules.parse("offset") == ("offset", None)
