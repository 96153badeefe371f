"""Numbers as text: the one module every table and summary formats with."""

from bench import formatting


def test_fmt_time():
    assert formatting.seconds(1.5) == "1.5 s"
    assert formatting.seconds(0.0042) == "4.2 ms"
    assert formatting.seconds(3.1e-5) == "31 us"
