"""Learning curves of a `gradbench train` run: train and test loss per epoch, log scale."""

from pathlib import Path

from bench.agg import matplotlib, plt
from bench.errors import UserError
from bench.output import write_atomic


def _format(path):
    """The image format named by the file's suffix; png without one."""
    return Path(path).suffix.lstrip(".").lower() or "png"


def check_format(path):
    """Refuse, before training, a --plot file whose suffix names no format matplotlib can write."""
    formats = matplotlib.backend_bases.FigureCanvasBase.get_supported_filetypes()  # no figure made or closed
    if _format(path) not in formats:
        raise UserError(f"{path}: cannot draw a .{_format(path)} file; use one of {', '.join(sorted(formats))}")


def plot_curves(rows, path):
    """Draw loss vs epoch (epoch 0 = before training) to `path` (format from its suffix)."""
    path = Path(path)
    epoch = [r["epoch"] for r in rows]
    first = rows[0]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epoch, [r["train_loss"] for r in rows], "-", color="tab:blue", label="train loss")
    if first["n_test"] > 0:
        ax.plot(epoch, [r["test_loss"] for r in rows], "--", color="tab:orange", label="test loss")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean square loss")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(f"{first['method']} / {first['optimizer']} (lr {first['lr']:g}, batch {first['batch_size']}), "
                 f"depth {first['depth']}, width {first['width']}, seed {first['seed']}", fontsize=9)
    ax.legend()
    try:
        return write_atomic(path, lambda tmp: fig.savefig(tmp, format=_format(path), bbox_inches="tight"))
    finally:
        plt.close(fig)
