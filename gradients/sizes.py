"""Sizes: widths, batch and activation checked (whole numbers only), the graph's size E and V,
and the bytes of a network's parameters: the one place that computes them."""

import numpy as np

ACTIVATIONS = ("relu", "identity")


def is_integer(n):
    """ints and numpy integers are sizes; floats (2.5, even 2.0), bools and strings are not."""
    return isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))


def check_size(n, name):
    """n as an int >= 1, or a ValueError naming it."""
    if not is_integer(n):
        raise ValueError(f"{name} must be an integer >= 1, got {n!r}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return int(n)


def check_widths(widths):
    """Validate widths n[1..L+1] and return them as a list of ints."""
    if np.iterable(widths) and not isinstance(widths, (str, bytes)):
        widths = list(widths)
    if not isinstance(widths, list) or not all(is_integer(n) for n in widths):
        raise ValueError(f"widths must be a list of positive integers, got {widths!r}")
    widths = [int(n) for n in widths]
    if len(widths) < 2:
        raise ValueError("depth must be >= 1: widths needs at least 2 entries "
                         f"(input and one layer), got {widths}")
    if min(widths) < 1:
        raise ValueError(f"every width must be >= 1, got {widths}")
    return widths


def check_activation(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}")
    return activation


def edges(widths):
    """E: weights plus alpha, sum_t n[t+1] n[t] + n[L+1]."""
    widths = check_widths(widths)
    return sum(a * c for a, c in zip(widths, widths[1:])) + widths[-1]


def nodes(widths):
    """V: sum_t n[t] + 1 (every layer's units and the output)."""
    return sum(check_widths(widths)) + 1


def uniform_edges(depth, width, input_dim):
    """E of `depth` layers of `width` units on `input_dim` inputs, in O(1): d w + (L - 1) w^2 + w
    (edges() of its widths, without the list of L + 1 of them)."""
    return input_dim * width + (depth - 1) * width**2 + width


def uniform_nodes(depth, width, input_dim):
    """V of that network, in O(1): d + L w + 1."""
    return input_dim + depth * width + 1


def parameter_bytes(widths, itemsize=8):
    """The bytes of theta's numbers: every W[t], alpha and b, E + 1 entries (float64: 8 bytes)."""
    return itemsize * (edges(widths) + 1)
