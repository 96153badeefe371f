"""The report as a document: its header, the environment and sweeps it covers, figures, the file."""

import datetime
import os
from pathlib import Path

import gradients
from bench.formatting import code, link, nbytes, table, values
from bench.output import write_text
from bench.placement import describe
from bench.report.growth import fits_section, speedup_section, summary_section
from bench.report.local import local_section
from bench.report.placements import placements_section
from bench.report.space import space_section
from bench.results import excluded, excluded_rows, ok_rows

ENVIRONMENT = ("python", "numpy", "framework", "blas", "blas_threads", "cpu", "device_name",
               "profile")
CACHES = ("l2_bytes", "llc_bytes")


def _sizes(series):
    """Distinct byte sizes, for people; '-' when unknown (files of schema version 1)."""
    known = series.dropna()
    return ", ".join(nbytes(v) for v in sorted(known.unique())) if len(known) else "-"


def environment_section(frames):
    """Environment columns, one column of the table per file."""
    rows = [[key] + [values(df[key].astype(object).fillna("-").astype(str))
                     for df in frames.values()]
            for key in ENVIRONMENT]
    rows += [[key] + [_sizes(df[key]) for df in frames.values()] for key in CACHES]
    rows.append(["measured (UTC)"] + [f"{df['timestamp'].min()} .. {df['timestamp'].max()}"
                                      for df in frames.values()])
    return ["## Environment", ""] + table(["", *frames], rows)


def sweep_section(frames):
    """What each file swept, how many points are ok, and the gradient agreement."""
    rows, notes = [], []
    for name, df in frames.items():
        ok = ok_rows(df)
        is_gradient = lambda m: gradients.record(m, strict=False).is_gradient
        gradient = ok["method"].map(is_gradient).astype(bool)
        grads = ok[gradient & (ok["method"] != "backprop")]  # backprop is the reference itself
        if grads.empty:
            agree = "n/a (no gradient method but backprop)"
        else:
            all_agree = grads["agree"].astype(str).str.lower().eq("true").all()
            agree = "all agree" if all_agree else "DISAGREEMENT"
            agree += f" (max rel err {grads['max_rel_err'].max():.1e})"
        rows.append([name, values(df["method"]), values(df["depth"]), values(df["width"]),
                     values(df["input_dim"]), values(df["batch"]), values(df["activation"]),
                     values(df["seed"]), f"{len(ok)} of {len(df)}", agree])
        if excluded(df):
            notes.append(f"- {name}: {excluded(df)}; they are left out of the fits, tables and "
                         "figures:")
            for r in excluded_rows(df).itertuples():
                notes.append(f"  - {r.method} depth={r.depth} width={r.width} batch={r.batch}: "
                             f"{r.status} ({r.reason})")
    header = ["file", "methods", "depth", "width", "input_dim", "batch", "activation", "seed",
              "points ok", "gradients vs backprop"]
    return ["## Sweeps", ""] + table(header, rows) + [""] + notes


def figures_section(plots, out_dir):
    """Relative image links, one subsection per file."""
    lines = ["## Figures", ""]
    for name, pngs in plots.items():
        lines += [f"### {name}", ""]
        for png in pngs:
            rel = Path(os.path.relpath(png, out_dir)).as_posix()
            lines += [link(png.stem, rel, image=True), ""]
    return lines


def placement_line(frames):
    """The header's line naming where each file's rows ran: backend, device, device_name, dtype."""
    found = {name: " and ".join(describe(ok_rows(df) if len(ok_rows(df)) else df))
             for name, df in frames.items()}
    # every file ran where the first did (the default study): say it once
    if len(set(found.values())) == 1:
        return f"Backend, device and dtype: {next(iter(found.values()))}."
    return ("Backend, device and dtype: "
            + "; ".join(f"{name}: {where}" for name, where in found.items()) + ".")


def write_report(frames, all_fits, plots, out, command, sources):
    """Write the Markdown report of results {name: df}, fits {name: df}, PNGs {name: [paths]}.

    command is the command line that wrote it; sources the results files, linked from the report.
    """
    out = Path(out)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    data = ", ".join(link(Path(p).name, Path(os.path.relpath(p, out.parent)).as_posix())
                     for p in sources)
    lines = [f"# gradbench report: {', '.join(frames)}", "",
             f"Written {stamp} by {code(command)} from {data} and their fits files.", "",
             placement_line(frames), ""]
    for section in (summary_section(frames, all_fits), environment_section(frames),
                    sweep_section(frames), fits_section(all_fits, frames),
                    placements_section(frames, all_fits), local_section(frames, all_fits),
                    speedup_section(frames), space_section(frames, all_fits),
                    figures_section(plots, out.parent)):
        # the Backends section is there only for several placements
        lines += section + [""] if section else []
    return write_text(out, "\n".join(lines).rstrip() + "\n")
