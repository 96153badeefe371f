"""The command line's conveniences on top of the one-way stages (sweep -> fit -> plot -> report).

`gradbench plot x.csv` and `gradbench report x.csv` make what is missing or stale first, and say
so: the fits of a results file when its fits file is missing or was fitted from another file or
version (it records the results file's name and hash), and the figures
when they are missing, older than the fits, or drawn from another file (each PNG records the
same name and hash). The stages themselves only read what they are
given and write their own files; this module is the only place that chains them.
"""

import os
from pathlib import Path

from PIL import Image

from bench import plot as plotting
from bench.errors import UserError
from bench.fit import fit_file, fits_path, fitted_source, is_current, read_fits
from bench.output import check_writable
from bench.plot import KINDS
from bench.report import readme as front_page
from bench.report import write_report
from bench.results import ok_rows, panels, read_results


def ensure_fits(path):
    """The fits of a results CSV, fitted (with fit's defaults) first unless the fits file records
    that it was fitted from this file as it is now (its name and hash, not a newer mtime):
    (fits, notes)."""
    out = fits_path(path)
    if is_current(out, path):
        return read_fits(out), []
    out, fits, notes = fit_file(path)
    # the excluded points are the caller's own note
    other = [n for n in notes
             if "another rule" in n or n.startswith(("could not fit", "left out"))]
    wrote = f"wrote {out} (it was missing or not fitted from {path} as it is now)"
    return fits, ["; ".join([wrote] + other)]


def check_names(paths):
    """Refuse results files whose figures (<stem>-<kind>.png in one folder) would share names."""
    owner = {}
    for i, p in enumerate(paths):
        for kind in KINDS:
            j = owner.setdefault(f"{Path(p).stem}-{kind}", i)
            if j != i:
                raise UserError(f"two results files share a name ({paths[j]}, {p}): "
                                "their figures would overwrite each other")


def plot_files(paths, out_dir="plots", formats=None, style=None):
    """plot() of each results CSV, their names checked first: yields (path, written, notes)."""
    check_names(paths)
    for path in paths:
        yield (path, *plot(path, out_dir, formats, style))


def plot(path, out_dir="plots", formats=None, style=None):
    """Draw the figures of a results CSV, fitting it first if need be: (paths, notes).

    formats: 'png,svg,pdf' or a sequence (default png and svg); style: report, paper or slides.
    """
    formats = plotting.check_formats(formats or plotting.FORMATS)  # before reading or fitting
    style = plotting.check_style(style or plotting.DEFAULT_STYLE)
    df = read_results(path)
    name = Path(path).stem
    plotting.check_out_dir(name, out_dir)  # a bad --out-dir fails before any fitting or drawing
    fits, notes = ensure_fits(path) if panels(ok_rows(df)) else (None, [])
    written, draw_notes = plotting.draw(df, fits, name, out_dir, source=str(path), formats=formats,
                                        style=style, stamp=_stamp(path))
    return written, notes + draw_notes


def _stamp(path):
    """What a PNG records it was drawn from: the results file's name and hash, as fits do."""
    return " ".join(fitted_source(path))


def _stamp_of(png):
    """The stamp a PNG records (its Source text), or None (drawn before stamps, or not a PNG)."""
    try:
        with Image.open(png) as image:
            return image.info.get("Source")
    except (OSError, ValueError):
        return None


def ensure_plots(path, plots_dir):
    """The PNGs of a results CSV, drawn first unless every one there records that it was drawn
    from this file as it is now and is no older than its fits (another file of one name may have
    drawn it): (paths, notes)."""
    name = Path(path).stem
    fits_mtime = fits_path(path).stat().st_mtime
    drawn = [p for p in (Path(plots_dir) / f"{name}-{kind}.png" for kind in KINDS) if p.is_file()]
    stamp = _stamp(path)
    if drawn and all(p.stat().st_mtime >= fits_mtime and _stamp_of(p) == stamp for p in drawn):
        return drawn, []
    written, notes = plot(path, plots_dir)
    return [p for p in written if p.suffix == ".png"], [f"drew the plots of {path}"] + notes


def default_report(paths):
    """results/<name>.md for one file, results/report.md beside the first of several."""
    first = Path(paths[0])
    return first.with_suffix(".md") if len(paths) == 1 else first.with_name("report.md")


def report(paths, out=None, plots_dir="plots", command=None, readme=None):
    """Write the Markdown report of results CSVs, making missing or stale fits and figures first.

    Returns (out, notes).

    readme: also rewrite that file's results block (bench.report.readme) from the same numbers."""
    check_names(paths)
    frames = {Path(p).stem: read_results(p) for p in paths}  # every file checked before any work
    if command is None:
        command = "gradbench report " + " ".join(map(str, paths)) + (f" --out {out}" if out else "")
    out = Path(out) if out else default_report(paths)
    check_writable(out, reserve=0)  # a bad --out fails before any fitting or drawing
    for p in paths:  # the report must not replace what it reads (or writes first)
        for source in (Path(p), fits_path(p)):
            if os.path.realpath(out) == os.path.realpath(source):
                raise UserError(f"--out {out} is {source}, which the report reads: choose another "
                                "name")
    notes, all_fits, pngs = [], {}, {}
    for p in paths:
        name = Path(p).stem
        all_fits[name], fit_notes = ensure_fits(p)
        pngs[name], plot_notes = ensure_plots(p, plots_dir)
        notes += fit_notes + plot_notes
    written = write_report(frames, all_fits, pngs, out, command, paths)
    if readme is not None:
        front_page.update(readme,
                          front_page.block(frames, all_fits, plots_dir, Path(readme).parent))
        notes.append(f"wrote the results block of {readme}")
    return written, notes
