"""Every method runs unchanged on any array API backend and agrees with NumPy.

Networks and batches move between backends."""

import importlib.util
import subprocess
import sys
import types

import array_api_compat
import numpy as np
import pytest

import gradients
from gradients import backends

STRICT = "array_api_strict"
FLOAT32_TOL = 1e-4  # gradients.backends' documented float32 agreement
NO_TORCH = "PyTorch is optional (pip install 'gradbench[torch]'); make test does not install it"
SEEDS = range(100)
# E (E + V) work per call
SMALL = {"numerical": dict(max_depth=2, max_width=3, max_input=3, max_batch=3)}


def problem(seed, max_depth=3, max_width=5, max_input=4, max_batch=4):
    """A small seeded random network and batch: odd shapes, both activations, a nonzero b."""
    rng = np.random.default_rng(seed)
    depth = int(rng.integers(1, max_depth + 1))
    hidden = [int(n) for n in rng.integers(1, max_width + 1, size=depth)]
    widths = [int(rng.integers(1, max_input + 1))] + hidden
    net = gradients.Network.init(widths, seed=seed, activation=gradients.ACTIVATIONS[seed % 2])
    net.b = float(rng.normal())
    X, y = gradients.make_data(widths, int(rng.integers(1, max_batch + 1)), seed=seed)
    return net, X, y


def on(backend, net, X, y, device=None, dtype=None):
    """The same problem on another backend."""
    return (net.to(backend, device=device, dtype=dtype), backends.move(X, backend, device, dtype),
            backends.move(y, backend, device, dtype))


def assert_agrees_with_numpy(method, backend, tol, device=None, seeds=SEEDS):
    for seed in seeds:
        net, X, y = problem(seed, **SMALL.get(method, {}))
        reference = gradients.gradient(net, X, y, method=method)
        g = gradients.gradient(*on(backend, net, X, y, device), method=method)
        xp = backends.namespace_of(g.alpha)
        assert backends.backend_name(xp) == backend, seed
        assert all(backends.namespace_of(W) is xp for W in g.weights), seed
        assert gradients.relative_error(g, reference) <= tol, seed


@pytest.mark.parametrize("method", gradients.METHODS)
def test_every_method_runs_on_strict_arrays_and_matches_numpy(method):
    assert_agrees_with_numpy(method, STRICT, 1e-12)


@pytest.mark.parametrize("backend", [STRICT, "torch"])
def test_checkpoint_matches_numpy_for_every_segment_count_on_deeper_networks(backend):
    if backend == "torch":
        pytest.importorskip("torch", reason=NO_TORCH)
    for seed in range(60):
        net, X, y = problem(seed, max_depth=10, max_width=6)
        segments = 1 + seed % net.depth
        reference = gradients.gradient(net, X, y, method="backprop")
        g = gradients.gradient(*on(backend, net, X, y), method="checkpoint", segments=segments)
        assert backends.backend_name(backends.namespace_of(g.alpha)) == backend, seed
        assert gradients.relative_error(g, reference) <= 1e-12, (seed, segments)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("method", gradients.METHODS)
def test_non_finite_results_are_refused_on_strict_arrays(method):
    net, X, y = on(STRICT, gradients.Network.init([2, 3, 3], seed=0, activation="identity"),
                   *gradients.make_data([2, 3, 3], 2))
    net.alpha[...] = 1e200  # yhat about 1e200: the loss, and d loss / d W, overflow
    with pytest.raises(gradients.NotFiniteError, match="overflowed"):
        gradients.gradient(net, X, y, method=method)
    net.weights[1][0, 0] = float("nan")
    # numerical's copy refuses it already
    with pytest.raises(ValueError, match=r"weights\[1\] has non-finite"):
        gradients.gradient(net, X, y, method=method)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_loss_and_predict_refuse_an_overflow_on_strict_arrays():
    net, X, y = on(STRICT, gradients.Network.init([2, 3, 3], seed=0),
                   *gradients.make_data([2, 3, 3], 2))
    for W in net.weights:
        W *= 1e200
    with pytest.raises(gradients.NotFiniteError, match="forward pass overflowed"):
        gradients.loss(net, X, y)
    with pytest.raises(gradients.NotFiniteError, match="forward pass overflowed"):
        net.predict(X)


@pytest.mark.parametrize("backend", ["numpy", STRICT, "torch"])
def test_inplace_functions_write_into_out_and_return_it(backend):
    if backend == "torch":
        pytest.importorskip("torch", reason=NO_TORCH)
    xp, ip = backends.namespace(backend), backends.inplace(backends.namespace(backend))
    a = xp.asarray([[1.0, -2.0], [3.0, 4.0]], dtype=xp.float64)
    b = xp.asarray([[0.5, 1.0], [-1.0, 2.0]], dtype=xp.float64)
    for f, expected in [(ip.matmul, a @ b), (ip.multiply, a * b), (ip.maximum, xp.maximum(a, 0.0))]:
        out = xp.zeros((2, 2), dtype=xp.float64)
        assert f(a, b if f is not ip.maximum else 0.0, out=out) is out
        assert np.array_equal(backends.to_numpy(out), backends.to_numpy(expected))


def test_a_numpy_gradient_is_one_buffer_checked_in_one_pass():
    net, X, y = problem(4, max_depth=5)
    for method in gradients.METHODS:
        g = gradients.gradient(net, X, y, method=method)
        if method != "autograd":  # PyTorch allocates autograd's gradient itself
            assert all(W.base is g.weights[0].base for W in g.weights), method
        assert g.is_finite(), method


def test_loss_and_predict_on_strict_arrays_match_numpy():
    for seed in SEEDS:
        net, X, y = problem(seed)
        strict, Xs, ys = on(STRICT, net, X, y)
        assert gradients.loss(strict, Xs, ys) == pytest.approx(gradients.loss(net, X, y), rel=1e-12,
                                                               abs=1e-300)
        np.testing.assert_allclose(backends.to_numpy(strict.predict(Xs)), net.predict(X),
                                   rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("method", gradients.METHODS)
def test_every_method_runs_on_torch_cpu_and_matches_numpy(method):
    pytest.importorskip("torch", reason=NO_TORCH)
    # another BLAS rounds differently; central differences divide the losses' rounding by 2h
    assert_agrees_with_numpy(method, "torch", 1e-9 if method == "numerical" else 1e-12)


@pytest.mark.parametrize("method", ["backprop", "naive", "autograd"])
def test_methods_run_on_cuda_and_match_numpy(method):
    torch = pytest.importorskip("torch", reason=NO_TORCH)
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    assert_agrees_with_numpy(method, "torch", 1e-12, device="cuda", seeds=range(30))
    net, _, _ = problem(0)
    assert backends.describe(net.to("torch", device="cuda"))["device"].startswith("cuda")
    backends.synchronize(net.to("torch", device="cuda"))


@pytest.mark.parametrize("method", ["backprop", "naive"])
def test_methods_run_on_cupy_and_match_numpy(method):
    pytest.importorskip("cupy", reason="CuPy is optional (pip install 'gradbench[cupy]')")
    assert_agrees_with_numpy(method, "cupy", 1e-12, device="cuda", seeds=range(20))


@pytest.mark.parametrize("backend", ["numpy", STRICT, "torch"])
def test_autograd_agrees_with_backprop_on_larger_networks(backend):
    pytest.importorskip("torch", reason=NO_TORCH)
    for seed in range(150):
        net, X, y = on(backend, *problem(seed, max_depth=8, max_width=16, max_input=10,
                                         max_batch=16))
        g = gradients.gradient(net, X, y, method="autograd")
        reference = gradients.gradient(net, X, y, method="backprop")
        assert gradients.relative_error(g, reference) <= 1e-10, seed


def test_autograd_leaves_a_torch_network_as_it_was():
    torch = pytest.importorskip("torch", reason=NO_TORCH)
    net, X, y = on("torch", *problem(3, max_depth=4))
    before = [W.clone() for W in net.weights]
    g = gradients.gradient(net, X, y, method="autograd")
    assert all(isinstance(W, torch.Tensor) and not W.requires_grad for W in g.weights)
    assert all(torch.equal(W, V) and not W.requires_grad for W, V in zip(net.weights, before))


@pytest.mark.parametrize("backend", ["numpy", STRICT])
@pytest.mark.parametrize("method", ["backprop", "naive", "autograd"])
def test_float32_agrees_with_float64_to_the_documented_tolerance(backend, method):
    if method not in gradients.METHODS:
        pytest.skip(NO_TORCH)
    for seed in range(50):
        net, X, y = problem(seed, max_depth=6, max_width=12, max_batch=8)
        g = gradients.gradient(*on(backend, net, X, y, dtype="float32"), method=method)
        assert {backends.dtype_name(W.dtype) for W in [*g.weights, g.alpha]} == {"float32"}
        reference = gradients.gradient(net, X, y, method="backprop")
        assert gradients.relative_error(g, reference) <= FLOAT32_TOL, seed


def test_moving_a_network_is_a_copy_and_the_round_trip_exact():
    net, _, _ = problem(5, max_depth=4)
    strict = net.to(STRICT)
    back = strict.to("numpy")
    assert all(np.array_equal(W, V) for W, V in zip(back.weights, net.weights))
    assert np.array_equal(back.alpha, net.alpha)
    assert back.b == net.b and back.activation == net.activation
    strict.weights[0][0, 0] = 123.0
    back.alpha[0] = 123.0
    assert net.weights[0][0, 0] != 123.0 and net.alpha[0] != 123.0
    assert net.to("numpy").weights[0] is not net.weights[0]
    import array_api_strict  # a namespace works as well as its name

    assert array_api_compat.is_array_api_strict_namespace(net.to(array_api_strict).xp)


def test_make_data_draws_the_same_values_on_every_backend():
    X, y = gradients.make_data([4, 3], 6, seed=9)
    assert type(X) is np.ndarray and X.dtype == np.float64 and X.shape == (6, 4) and y.shape == (6,)
    Xs, ys = gradients.make_data([4, 3], 6, seed=9, backend=STRICT)
    assert array_api_compat.is_array_api_strict_namespace(backends.namespace_of(Xs))
    assert np.array_equal(backends.to_numpy(Xs), X) and np.array_equal(backends.to_numpy(ys), y)
    X32, _ = gradients.make_data([4, 3], 6, seed=9, dtype="float32")
    assert X32.dtype == np.float32 and np.array_equal(X32, X.astype(np.float32))


def test_relative_error_is_a_python_float_on_any_backend():
    net, X, y = problem(2)
    g = gradients.gradient(net, X, y)
    strict = gradients.gradient(*on(STRICT, net, X, y))
    assert type(gradients.relative_error(strict, strict)) is float
    assert gradients.relative_error(strict, g) == 0.0  # across backends: compared in NumPy
    strict.alpha[0] = float("nan")
    assert gradients.relative_error(strict, g) == float("inf")


def test_describe_gives_the_result_columns():
    net, _, _ = problem(1)
    assert backends.describe(net) == {
        "backend": "numpy", "device": "cpu", "device_name": backends.describe(net)["device_name"],
        "dtype": "float64", "framework_version": np.__version__,
    }
    assert backends.describe(net)["device_name"]
    strict = backends.describe(net.to(STRICT, dtype="float32"))
    assert (strict["backend"], strict["device"], strict["dtype"]) == (STRICT, "cpu", "float32")


def test_synchronize_waits_for_a_cuda_tensor_and_not_for_the_cpu(monkeypatch):
    torch = pytest.importorskip("torch", reason=NO_TORCH)
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", calls.append)

    class OnCuda(torch.Tensor):  # a stub: a CPU tensor that reports a CUDA device
        @property
        def device(self):
            return torch.device("cuda:0")

    backends.synchronize(torch.zeros(2))
    backends.synchronize(gradients.Network.init([2, 2]).to("torch"))
    assert calls == []
    backends.synchronize(torch.Tensor._make_subclass(OnCuda, torch.zeros(2)))
    assert calls == [torch.device("cuda:0")]


def test_synchronize_waits_for_a_cupy_device(monkeypatch):
    calls = []
    # a stub namespace: array_api_compat recognises cupy.ndarray instances
    fake = types.ModuleType("cupy")

    class ndarray:
        device = types.SimpleNamespace(synchronize=lambda: calls.append("device 0"))

    fake.ndarray = ndarray
    monkeypatch.setitem(sys.modules, "cupy", fake)
    backends.synchronize(np.zeros(2))
    assert calls == []
    backends.synchronize(ndarray())
    assert calls == ["device 0"]


def test_autograd_is_registered_exactly_when_torch_is_installed_and_not_imported_early():
    assert ("autograd" in gradients.METHODS) == (importlib.util.find_spec("torch") is not None)
    code = "import sys, gradients; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


NET = gradients.Network.init([3, 4, 2], seed=0)
X3, Y3 = gradients.make_data([3, 4, 2], 5)
XS, YS = gradients.make_data([3, 4, 2], 5, backend=STRICT)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: NET.to("jax"), "unknown backend 'jax'"),
        (lambda: NET.to("numpy", dtype="float16"), "dtype"),
        (lambda: NET.to("numpy", device="cuda"), "device"),
        (lambda: gradients.make_data([3, 2], 4, dtype="int32"), "dtype"),
        (lambda: gradients.gradient(NET, XS, YS),
         "X is on backend array_api_strict but the network is on numpy"),
        (lambda: gradients.gradient(NET, X3, YS), "y is on backend array_api_strict"),
        (lambda: gradients.gradient(NET.to(STRICT), X3, YS),
         "X is on backend numpy but the network is on array_api"),
        (lambda: gradients.Network([NET.to(STRICT).weights[0]], NET.alpha[:4], 0.0),
         "alpha is on backend numpy"),
        (lambda: gradients.Network([XS * float("nan")], YS[:3], 0.0), "weights[0] has non-finite"),
    ],
)
def test_bad_placement_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call()


@pytest.mark.parametrize("backend, name", [("cupy", "CuPy"), ("torch", "PyTorch")])
def test_a_missing_backend_says_how_to_install_it_as_the_command_line_does(backend, name):
    if importlib.util.find_spec(backend) is not None:
        pytest.skip(f"{name} is installed")
    says = f"{name} is not installed (pip install 'gradbench[{backend}]')"  # the CLI's words
    with pytest.raises(ValueError) as e:
        NET.to(backend)
    assert str(e.value) == f"backend {backend!r}: {says}"
    from bench.errors import UserError
    from bench.sweep.points import parse_placements

    with pytest.raises(UserError) as e:
        parse_placements(backend, "cpu", "float64")
    assert str(e.value) == f"--backend {backend}: {says}"
