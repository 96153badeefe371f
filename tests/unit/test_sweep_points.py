"""The sweep's points: the plan (product of ranges, in size order) and one Point's round trips."""

import pytest

from bench.errors import UserError
from bench.sweep.points import Point, plan


def test_plan_is_the_product_in_size_order_with_methods_in_given_order():
    points = plan("2,1", "3", "1:2", "backprop,naive")
    assert len(points) == 2 * 1 * 2 * 2
    assert [(p.depth, p.batch, p.method) for p in points[:4]] == [
        (1, 1, "backprop"), (1, 1, "naive"), (1, 2, "backprop"), (1, 2, "naive")]
    assert all(p.input_dim == p.width == 3 for p in points)
    assert points[-1].widths == [3, 3, 3]


def test_plan_runs_the_smallest_network_first_by_edges_then_batch():
    points = plan("1,2", "2,8", "1,3", "naive")
    # edges: depth 1 width 2: 6; depth 2 width 2: 10; depth 1 width 8: 72; depth 2 width 8: 136
    assert [(p.depth, p.width, p.batch) for p in points] == [
        (1, 2, 1), (1, 2, 3), (2, 2, 1), (2, 2, 3), (1, 8, 1), (1, 8, 3), (2, 8, 1), (2, 8, 3)]


def test_a_point_round_trips_through_the_series_spec_json():
    import json

    point = Point("naive", 3, 5, 7, 2, "identity", 11, "torch", "cuda:1", "float32")
    assert Point(**json.loads(json.dumps(point.__dict__))) == point  # as the child reads its spec


def test_point_from_a_csv_row_of_strings_or_values():
    point = Point("naive", 3, 5, 7, 2, "identity", 11)
    row = {k: str(v) for k, v in point.__dict__.items()}
    assert Point.from_row(row) == point
    assert Point.from_row(point.__dict__) == point


def test_plan_input_dim_range_and_duplicate_methods():
    points = plan("1", "4", "1", "naive,naive", input_dim="2,5")
    found = [(p.method, p.input_dim, tuple(p.widths)) for p in points]
    assert found == [("naive", 2, (2, 4)), ("naive", 5, (5, 4))]


@pytest.mark.parametrize("kwargs, fragment", [
    ({"methods": "foo"}, "unknown method 'foo'"),
    ({"methods": ","}, "empty list"),
    ({"activation": "tanh"}, "--activation tanh"),
    ({"seed": -1}, "--seed -1"),
    ({"depth": "0"}, "--depth 0"),
])
def test_plan_rejects_bad_input(kwargs, fragment):
    args = {"depth": "1", "width": "2", "batch": "1", "methods": "naive", **kwargs}
    with pytest.raises(UserError, match=fragment):
        plan(args.pop("depth"), args.pop("width"), args.pop("batch"), args.pop("methods"), **args)


def test_plan_refuses_a_product_of_ranges_too_large_to_run():
    with pytest.raises(UserError, match="300,000 points, more than 10,000"):
        plan("1:100", "1:100", "1:10", "naive,backprop,forward")
