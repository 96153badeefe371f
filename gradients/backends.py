"""Array backends: where a network's arrays live (NumPy, PyTorch, CuPy, array_api_strict).

Every method is written once against the Python array API standard; `xp` is the namespace of
the network's arrays. NumPy >= 2 implements the standard itself, so it is used directly (no
wrapper calls on the default, fastest-to-call backend); PyTorch and CuPy go through
array-api-compat's wrappers. Moving between backends goes through host memory as NumPy:
simple, and never on a timed path.

    net = gradients.Network.init(widths).to("torch", device="cuda", dtype="float32")
    X, y = gradients.make_data(widths, batch, seed, backend="torch", device="cuda", dtype="float32")
    synchronize(net)   # wait for the device before reading a clock
    describe(net)      # backend, device, device_name, dtype, framework_version: result columns

float32 agrees with float64 to about 1e-4 relative error (tests use 1e-4 for backprop, naive
and autograd); central differences (`numerical`) need float64.
"""

import importlib
import platform
import types

import array_api_compat
import numpy as np

BACKENDS = ("numpy", "torch", "cupy", "array_api_strict")
# an optional module: the library's name in words, and the extra of gradbench that installs it
EXTRAS = {"torch": ("PyTorch", "torch"), "cupy": ("CuPy", "cupy"),
          "distributed": ("Dask's distributed", "cluster"),
          "array_api_strict": ("array-api-strict", "test")}


def not_installed(module):
    """The one message for a missing optional module, as the command line gives it:
    "PyTorch is not installed (pip install 'gradbench[torch]')"."""
    name, extra = EXTRAS[module]
    return f"{name} is not installed (pip install 'gradbench[{extra}]')"
DTYPES = ("float64", "float32")
_STANDARD = "2023.12"  # a library declaring this version or later is used without array-api-compat
_NAMESPACES = {}  # array type -> namespace: array_namespace costs microseconds, a lookup does not
_INPLACE = {}  # namespace -> its functions with out= (see inplace)


def _preferred(lib):
    """The library itself if it implements the standard, else array-api-compat's wrapper of it."""
    if getattr(lib, "__array_api_version__", "") >= _STANDARD:
        return lib
    return importlib.import_module(f"array_api_compat.{lib.__name__}")


def namespace_of(x):
    """The array API namespace of an array."""
    xp = _NAMESPACES.get(type(x))
    if xp is None:
        found = array_api_compat.array_namespace(x, use_compat=False)
        xp = _NAMESPACES[type(x)] = _preferred(found)
    return xp


def namespace(backend):
    """The namespace for a backend name in BACKENDS, or a namespace passed as is."""
    if isinstance(backend, types.ModuleType):
        return _preferred(backend)
    if not isinstance(backend, str):
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)} or an array namespace, "
                         f"got {backend!r}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    try:
        return _preferred(importlib.import_module(backend))
    except ImportError:
        raise ValueError(f"backend {backend!r}: {not_installed(backend)}") from None


def backend_name(xp):
    """'numpy', 'torch', 'cupy', 'array_api_strict', or the namespace's module name."""
    for name in BACKENDS:
        if getattr(array_api_compat, f"is_{name}_namespace")(xp):
            return name
    return xp.__name__


def dtype_name(dtype):
    """'float64' for np.float64, torch.float64, array_api_strict.float64 or 'float64'."""
    if isinstance(dtype, type):  # NumPy's scalar types: str() gives "<class 'numpy.float64'>"
        return dtype.__name__
    return str(dtype).rsplit(".", 1)[-1]


def float_dtype(xp, dtype):
    """The namespace's float dtype for a name or dtype object; None stays None (keep the dtype)."""
    if dtype is None:
        return None
    name = dtype_name(dtype) if not isinstance(dtype, str) else dtype
    if name not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return getattr(xp, name)


def device_for(xp, device):
    """A device the namespace accepts: 'cpu' or None on NumPy; 'cuda[:N]' for PyTorch or CuPy."""
    if device is None:
        return None
    name = backend_name(xp)
    if name in ("numpy", "array_api_strict"):
        if str(device) != "cpu":
            raise ValueError(f"device must be 'cpu' for backend {name!r}, got {device!r}")
        return None  # the one default device
    if name == "cupy" and isinstance(device, str):
        kind, _, index = device.partition(":")
        if kind not in ("cuda", "gpu") or not (index == "" or index.isdigit()):
            raise ValueError("device must be 'cuda' or 'cuda:N' for backend 'cupy', "
                             f"got {device!r}")
        return importlib.import_module("cupy").cuda.Device(int(index or 0))
    if name == "torch" and isinstance(device, str):
        torch = importlib.import_module("torch")
        try:
            return torch.device(device)
        except RuntimeError:
            raise ValueError(f"device {device!r} is not a PyTorch device "
                             "(cpu, cuda, cuda:N)") from None
    return device


def to_numpy(x):
    """A NumPy array with x's values (a copy where x is on a device)."""
    if array_api_compat.is_numpy_array(x):
        return x
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if array_api_compat.is_cupy_array(x):
        return x.get()
    return np.from_dlpack(x)  # CPU arrays of other libraries, array_api_strict's among them


def move(x, backend, device=None, dtype=None):
    """A copy of array x on another backend, device and dtype.

    device None: the backend's default device; dtype None: x's dtype.
    """
    xp = namespace(backend)
    host = to_numpy(x)
    dtype = float_dtype(xp, dtype if dtype is not None else host.dtype)
    return xp.asarray(host, dtype=dtype, device=device_for(xp, device), copy=True)


def placement(x):
    """(namespace, float dtype, device) of a network from x: x's own, or NumPy float64 for lists."""
    if not array_api_compat.is_array_api_obj(x):
        return np, np.float64, None
    xp = namespace_of(x)
    dtype = x.dtype if dtype_name(x.dtype) in DTYPES else xp.float64
    return xp, dtype, array_api_compat.device(x)


def total(x):
    """The sum of all entries of x, 0-d: the array's own .sum() where it has one (NumPy's skips
    np.sum's dispatch, microseconds on a small array), else the namespace's sum."""
    return x.sum() if hasattr(x, "sum") else namespace_of(x).sum(x)


def inplace(xp):
    """The namespace's matmul, multiply and maximum that write into out= and return it.

    NumPy and CuPy have them as they are; PyTorch under other names; a library without out=
    (array_api_strict) gets functions that compute a new array and copy it into out.
    """
    ip = _INPLACE.get(xp)
    if ip is None:
        ip = _INPLACE[xp] = _inplace(backend_name(xp), xp)
    return ip


def _inplace(name, xp):
    if name in ("numpy", "cupy"):
        return importlib.import_module(name)  # array-api-compat's CuPy wrappers take no out=
    if name == "torch":
        torch = importlib.import_module("torch")
        return types.SimpleNamespace(matmul=torch.matmul, multiply=torch.mul,
                                     maximum=lambda x, c, out: torch.clamp(x, min=c, out=out))

    def copying(f):
        def into(a, b, out):
            out[...] = f(a, b)
            return out
        return into

    return types.SimpleNamespace(matmul=copying(xp.matmul), multiply=copying(xp.multiply),
                                 maximum=copying(xp.maximum))


def _array_of(x):
    """An array from an array or a Network (its alpha)."""
    return x.alpha if hasattr(x, "alpha") else x


def synchronize(x):
    """Wait until the device of x (array or Network) has done its queued work; no-op on a CPU."""
    x = _array_of(x)
    if array_api_compat.is_torch_array(x) and x.device.type == "cuda":
        importlib.import_module("torch").cuda.synchronize(x.device)
    elif array_api_compat.is_cupy_array(x):
        x.device.synchronize()  # cupy.cuda.Device: every stream on that GPU


def describe(x):
    """Where x (a Network or an array) computes: backend, device, device_name, dtype,
    framework_version."""
    x = _array_of(x)
    xp = namespace_of(x)
    name = backend_name(xp)
    device = array_api_compat.device(x)
    lib = importlib.import_module(name) if name in BACKENDS else xp
    return {
        "backend": name,
        "device": _device_label(name, device),
        "device_name": _device_name(name, device),
        "dtype": dtype_name(x.dtype),
        "framework_version": getattr(lib, "__version__", ""),
    }


def _device_label(name, device):
    if name == "cupy":
        return f"cuda:{device.id}"
    if name in ("numpy", "array_api_strict"):
        return "cpu"
    return str(device)


def _device_name(name, device):
    """The GPU's product name, or the CPU's."""
    if name == "torch" and device.type == "cuda":
        return importlib.import_module("torch").cuda.get_device_name(device)
    if name == "cupy":
        props = importlib.import_module("cupy").cuda.runtime.getDeviceProperties(device.id)
        return props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    return cpu_name()


def cpu_name():
    """The CPU's model name (Linux /proc/cpuinfo), or what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
