"""gradbench compare: two runs' exponents and times side by side."""

from bench.compare import compare, laws
from bench.results import read_results


def test_two_runs_side_by_side(tmp_path, results_frame, write_csv, gradbench):
    df = results_frame([4, 8, 16, 32], [4], methods=("naive", "backprop"))
    a = write_csv(tmp_path / "a.csv", df)
    slower = df.copy()
    for column in ("time_s", "time_min_s", "time_median_s", "time_max_s"):
        slower[column] *= 2
    b = write_csv(tmp_path / "b.csv", slower)
    lines, _ = compare(a, b)
    text = "\n".join(lines)
    assert "| naive | depth |" in text and "| backprop | depth |" in text
    ratios = [float(line.split("|")[5]) for line in lines if line.startswith("| naive | depth=")]
    assert len(ratios) == 4 and all(1.8 < r < 2.2 for r in ratios)
    result = gradbench("compare", str(a), str(b), "--out", str(tmp_path / "c.md"))
    assert result.code == 0 and (tmp_path / "c.md").read_text().startswith("# gradbench compare")


def test_nothing_in_common_says_so(tmp_path, results_frame, write_csv):
    a = write_csv(tmp_path / "a.csv", results_frame([4, 8, 16], [4], methods=("naive",)))
    b = write_csv(tmp_path / "b.csv", results_frame([4, 8, 16], [4], methods=("backprop",)))
    text = "\n".join(compare(a, b)[0])
    assert "No time law is fitted in both files." in text
    assert "No point is timed in both files." in text


def test_a_missing_file_is_one_line(tmp_path, gradbench):
    result = gradbench("compare", str(tmp_path / "no.csv"), str(tmp_path / "no2.csv"))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1


def test_a_law_is_compared_with_the_same_sweep_in_a_file_of_several_placements(
        tmp_path, results_frame, write_csv):
    import pandas as pd

    numpy = results_frame([4, 8, 16, 32], [4], methods=("naive", "backprop"))
    a = write_csv(tmp_path / "a.csv", numpy)
    torch = results_frame([4, 8, 16, 32], [4], methods=("backprop",), backend="torch")
    b = write_csv(tmp_path / "b.csv", pd.concat([numpy, torch], ignore_index=True))
    both = laws((read_results(a), None), (read_results(b), None))
    # NumPy's laws in A meet B's, whose labels name the placement; torch's has none in A
    assert sorted(zip(both["method"], both["variable"])) == [
        ("backprop", "E"), ("backprop", "depth"), ("naive", "E"), ("naive", "depth")]
    assert set(both["backend_b"]) == {"numpy"} and (both["diff"] == 0).all()
    assert both["fixed_b"].str.contains("backend=numpy").all()
