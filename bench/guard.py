"""The memory guard: the bytes a network, its data and a gradient call need, against what there is.

Checked before anything is allocated: `gradbench train` refuses with one line (exit 2) and a
sweep point that cannot fit gets a `skipped` row, both naming what is needed and what is there.
The estimates count float64 arrays (8 bytes an entry; float32 needs half) and each array's own
overhead; they err on the generous side, since a refusal costs a line and an allocation that does
not fit costs the machine.

On a CUDA device the arrays live in the device's memory, so the estimate is held against what the
device has free (torch.cuda.mem_get_info, cupy.cuda.runtime.memGetInfo), not the host's RAM. That
query needs a CUDA context in the asking process (a few hundred MB of the device for the rest of
its life), so it is made only for estimates over UNCHECKED, as the host's is.
"""

import os
import resource
from pathlib import Path

import gradients
from bench.formatting import nbytes
from gradients.sizes import parameter_bytes

# a network is an array per layer: deeper, even its list of widths and its op count take minutes
MAX_DEPTH = 10**6
FLOAT = 8
ARRAY = 128  # bytes a numpy array object and its list slot take beyond its data
SPARE = 1.25  # the guard's margin: Python, numpy and the allocator need some too
# below this the guard does not look (reading /proc costs 0.1 ms, more than a small sweep point's
# bookkeeping): a machine running numpy has it, and an allocation that still fails is the child's
# error, not a crash
UNCHECKED = 32 * 2**20
UFUNC_BUFFERS = 8192 * FLOAT  # numpy's ufunc buffer of one operand (np.getbufsize() entries)
EXTRA_NETWORKS = {"sgd": 0, "adagrad": 1, "adam": 2}  # optimizer state, in networks


def network_bytes(widths):
    """theta: every W[t], alpha and b, and their arrays' headers (also the size of one Gradient)."""
    return parameter_bytes(widths, FLOAT) + ARRAY * (len(widths) + 1)


def batch_bytes(widths, batch):
    """X (B, d) and y (B,)."""
    return FLOAT * batch * (widths[0] + 1) + 2 * ARRAY


def forward_bytes(widths, batch):
    """A forward pass that keeps every u and z, X included."""
    return FLOAT * 2 * batch * sum(widths) + 2 * ARRAY * len(widths)


def gradient_bytes(method, widths, batch=1, activation="relu"):
    """Bytes one call of `method` keeps alive at its peak, beyond the network and the batch: its
    working memory (gradients.memory_count, the model) plus the gradient it returns.

    A method without a memory model is given its forward pass and its result.
    """
    try:
        work = gradients.memory_count(method, widths, batch=batch, activation=activation)
    except ValueError:
        work = forward_bytes(widths, batch)
    if not gradients.record(method, strict=False).is_gradient:  # the loss alone returns no gradient
        return work
    # plus a ufunc buffer and Python's objects, which the model leaves out where arrays dominate
    # and which are most of what a small call allocates (measured: up to 66 KiB over the model on
    # small networks)
    return work + network_bytes(widths) + UFUNC_BUFFERS


def point_bytes(method, widths, batch, activation="relu"):
    """A sweep child's peak: the network, the batch, the call, and backprop's gradient beside it."""
    need = (network_bytes(widths) + batch_bytes(widths, batch)
            + gradient_bytes(method, widths, batch, activation))
    if gradients.record(method, strict=False).is_gradient:  # compared with backprop's
        # flat copies
        need += gradient_bytes("backprop", widths, batch, activation) + 4 * network_bytes(widths)
    return need


def train_bytes(widths, samples, batch_size, method, optimizer, activation="relu"):
    """`gradbench train`: data and copies, teacher and student, optimizer state, largest pass."""
    # X, y; the split's copies; the standardised ones; a shuffle
    data = 4 * batch_bytes(widths, samples)
    # + theta, its step, its gradient
    networks = (5 + EXTRA_NETWORKS.get(optimizer, 2)) * network_bytes(widths)
    passes = (forward_bytes(widths, samples)
              + gradient_bytes(method, widths, min(batch_size, samples), activation))
    return data + networks + passes


def available_bytes():
    """Memory this process may still allocate: least of machine's, cgroup's, rlimit's; or None."""
    known = [b for b in (_meminfo(), _cgroup(), _rlimit()) if b is not None]
    return min(known) if known else None


def _meminfo():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _cgroup():
    """What the cgroup (a container's limit) leaves: v2 memory.max - memory.current, or v1's."""
    for limit, used in (("memory.max", "memory.current"), ("memory/memory.limit_in_bytes",
                                                           "memory/memory.usage_in_bytes")):
        try:
            text = Path("/sys/fs/cgroup", limit).read_text().strip()
            if text == "max" or int(text) >= 2**60:  # no limit (v1 writes a huge number)
                return None
            return max(0, int(text) - int(Path("/sys/fs/cgroup", used).read_text()))
        except (OSError, ValueError):
            continue
    return None


def _rlimit():
    """RLIMIT_AS (ulimit -v) less the address space already mapped."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return max(0, soft - int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return soft


def device_free_bytes(backend, device):
    """Free memory of CUDA `device` ('cuda:N') as `backend` ('torch', 'cupy') says, or None."""
    index = int(device.partition(":")[2] or 0)
    try:
        if backend == "torch":
            import torch  # optional, and seconds to import: only a CUDA point asks

            return int(torch.cuda.mem_get_info(index)[0])  # (free, total) bytes of the device
        if backend == "cupy":
            import cupy  # optional, as torch

            with cupy.cuda.Device(index):
                return int(cupy.cuda.runtime.memGetInfo()[0])  # (free, total) of the current device
    except Exception:  # no driver, no such device: the child's own error will say so
        return None
    return None


def refusal(needed, what, backend="numpy", device="cpu"):
    """Why `what` cannot run when `needed` bytes (with the margin) exceed what there is, else None.

    Available is the host's memory on the CPU, the device's free memory on a CUDA device.
    """
    if needed * SPARE <= UNCHECKED:
        return None
    on_cpu = device == "cpu"
    available = available_bytes() if on_cpu else device_free_bytes(backend, device)
    if available is None or needed * SPARE <= available:
        return None
    if on_cpu:
        return (f"{what} needs about {nbytes(needed)} of memory, and {nbytes(available)} is "
                "available")
    return (f"{what} needs about {nbytes(needed)} of {device} memory, and {nbytes(available)} of "
            "it is free")
