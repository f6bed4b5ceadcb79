"""The factorial experiment: read its definition (a JSON file, ``--experiment``), run every cell x seed.

The definition is an argument; the packaged default is paper 1's factorial
(``fer_edge/assets/experiments/factorial.json``, equal to ``train/factorial.json``). The runner
copies the definition it used to ``OUT/experiment.json``, so ``fer-edge train report OUT`` knows
which experiment the runs belong to without reading anything outside OUT.

Runs live at ``OUT/runs/<data>_<arch>/seed<k>/``. A run whose ``metrics.json`` exists is done and
skipped; a run in progress is written to a temporary sibling and renamed when complete, so a
killed experiment resumes where it stopped without losing or redoing finished runs. Cells
shared by several variants are trained once. After each run, the seed with the best validation
accuracy of its cell is copied to ``OUT/runs/<cell>/best/model.keras`` (with its card).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fer_edge.atomic import atomic_path, write_text
from fer_edge.errors import FerEdgeError
from fer_edge.training.datasets import DataCell
from fer_edge.training.fit import TrainConfig
from fer_edge.training.record import METRICS_FILE, RunRecord

RUNS = "runs"


@dataclass(frozen=True)
class Comparison:
    factor: str
    levels: dict[str, str]  # level name -> data cell
    about: str = ""


@dataclass(frozen=True)
class Variant:
    name: str
    data: list[str]
    comparisons: list[Comparison]
    about: str = ""
    architectures: dict[str, str] = field(default_factory=dict)  # its own; empty = the experiment's


@dataclass
class Experiment:
    name: str
    seeds: int
    split: str
    protocol: TrainConfig
    architectures: dict[str, str]  # short key -> registered architecture
    data: dict[str, DataCell]
    variants: dict[str, Variant]
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    def variant_architectures(self, variant: str) -> dict[str, str]:
        """Architecture key -> registered name of ``variant`` (its own, else the experiment's)."""
        return self.variants[variant].architectures or self.architectures

    def all_architectures(self) -> dict[str, str]:
        """Every architecture key any variant uses -> its registered name."""
        out = dict(self.architectures)
        for v in self.variants.values():
            out.update(v.architectures)
        return out

    def cells(self, variants: list[str]) -> list[tuple[str, str]]:
        """(data cell, architecture key) of the variants, in order, each once."""
        out: list[tuple[str, str]] = []
        for v in variants:
            for d in self.variants[v].data:
                for a in self.variant_architectures(v):
                    if (d, a) not in out:
                        out.append((d, a))
        return out

    def split_of(self, data: str) -> str:
        """The split method of a data cell's runs."""
        return self.data[data].split or self.split


def cell_name(data: str, arch_key: str) -> str:
    return f"{data}_{arch_key}"


EXPERIMENT_FILE = "experiment.json"


def default_experiment_path() -> Path:
    """The packaged copy of paper 1's factorial (``fer_edge/assets/experiments/factorial.json``).

    The package never reads the source checkout: ``train/factorial.json`` is the copy people edit and
    pass with ``--experiment``; the packaged one is the same file, kept equal by a test.
    """
    from importlib.resources import files

    return Path(str(files("fer_edge") / "assets" / "experiments" / "factorial.json"))


def results_experiment_path(results_dir: Path) -> Path:
    """The experiment a results folder was produced with (written by ``run_factorial``), else the default."""
    recorded = Path(results_dir) / EXPERIMENT_FILE
    return recorded if recorded.exists() else default_experiment_path()


def load_experiment(path: Path | None = None) -> Experiment:
    path = Path(path) if path else default_experiment_path()
    if not path.exists():
        raise FerEdgeError(f"{path}: experiment definition not found; pass --experiment train/factorial.json")
    try:
        raw = json.loads(path.read_text())
        known = {f.name for f in fields(TrainConfig)}
        unknown = set(raw["protocol"]) - known
        if unknown:
            raise FerEdgeError(f"{path}: unknown protocol keys {sorted(unknown)}; known: {sorted(known)}")
        data = {k: DataCell(name=k, **{kk: vv for kk, vv in v.items()}) for k, v in raw["data"].items()}
        variants = {}
        for name, v in raw["variants"].items():
            comps = [Comparison(c["factor"], dict(c["levels"]), c.get("about", "")) for c in v.get("comparisons", [])]
            variants[name] = Variant(name, list(v["data"]), comps, v.get("about", ""), dict(v.get("architectures", {})))
        exp = Experiment(
            name=raw.get("name", path.stem),
            seeds=int(raw.get("seeds", 3)),
            split=raw.get("split", "stratified"),
            protocol=TrainConfig(**raw["protocol"]),
            architectures=dict(raw["architectures"]),
            data=data,
            variants=variants,
            source=str(path),
            raw=raw,
        )
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        raise FerEdgeError(f"{path}: not a valid experiment definition ({type(e).__name__}: {e})") from None
    for v in exp.variants.values():
        for d in [*v.data, *(lvl for c in v.comparisons for lvl in c.levels.values())]:
            if d not in exp.data:
                raise FerEdgeError(f"{path}: variant {v.name!r} names data cell {d!r}, which 'data' does not define")
    for cell in exp.data.values():
        if cell.same_test_as and cell.same_test_as not in exp.data:
            raise FerEdgeError(
                f"{path}: data cell {cell.name!r} names {cell.same_test_as!r} in same_test_as, "
                "which 'data' does not define"
            )
    return exp


def run_dir(out: Path, cell: str, seed: int) -> Path:
    return Path(out) / RUNS / cell / f"seed{seed}"


def is_done(out: Path, cell: str, seed: int) -> bool:
    return (run_dir(out, cell, seed) / METRICS_FILE).exists()


#: TrainConfig fields that do not change what a run learns (the seed is the run's own).
_NOT_PROTOCOL = ("seed", "verbose")


def protocol_differences(metrics: dict[str, Any], protocol: TrainConfig, split: str) -> dict[str, tuple[Any, Any]]:
    """``{field: (recorded, wanted)}`` where a finished run's recorded protocol differs from this one.

    A field the run did not record (an older fer-edge) counts as its default value.
    """
    recorded = dict(metrics.get("fit", {}).get("config") or {})
    defaults = TrainConfig().as_dict()
    diffs = {
        k: (recorded.get(k, defaults[k]), v)
        for k, v in protocol.as_dict().items()
        if k not in _NOT_PROTOCOL and recorded.get(k, defaults[k]) != v
    }
    method = metrics.get("split", {}).get("method")
    if method is not None and method != split:
        diffs["split"] = (method, split)
    return diffs


def _stale_runs(
    out: Path, plan: list[tuple[int, str, str]], protocol: TrainConfig, exp: Experiment
) -> dict[tuple[str, int], dict[str, tuple[Any, Any]]]:
    """Finished runs of ``plan`` whose recorded protocol differs: ``{(cell, seed): differences}``."""
    stale = {}
    for seed, d, a in plan:
        cell = cell_name(d, a)
        if is_done(out, cell, seed):
            metrics = json.loads((run_dir(out, cell, seed) / METRICS_FILE).read_text())
            diffs = protocol_differences(metrics, protocol, exp.split_of(d))
            if diffs:
                stale[(cell, seed)] = diffs
    return stale


def _pid_alive(path: Path) -> bool:
    """The pid written in ``path`` is a running process (a missing or unreadable file: no)."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True  # alive, another user's
    except OSError:
        return False
    return True


def _lock_path(out: Path, cell: str, seed: int) -> Path:
    return Path(out) / RUNS / cell / f".seed{seed}.lock"


class RunLock:
    """One runner per run: a pid file beside the run, stale when its process is gone.

    Several runners may share a results folder (for example one per CPU core, each with
    ``--only``); each trains the runs no live runner holds and skips the others.
    """

    def __init__(self, out: Path, cell: str, seed: int) -> None:
        self.path = _lock_path(out, cell, seed)

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if _pid_alive(self.path):
                    return False
                self.path.unlink(missing_ok=True)  # stale: its runner is gone
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return True
        return False

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


def _clean_partial(out: Path) -> list[Path]:
    """Remove temporary run directories a killed run left (no live runner holds their run)."""
    removed = []
    for p in (Path(out) / RUNS).glob("*/.seed*.tmp"):
        seed = p.name[len(".seed") :].split(".", 1)[0]
        if seed.isdigit() and _pid_alive(_lock_path(out, p.parent.name, int(seed))):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def update_best(out: Path, cell: str) -> dict[str, Any] | None:
    """Copy the finished seed with the best validation accuracy of ``cell`` to ``runs/<cell>/best/``."""
    finished = []
    for d in sorted((Path(out) / RUNS / cell).glob("seed*")):
        m = d / METRICS_FILE
        if m.exists():
            finished.append((RunRecord.load(m), d))
    if not finished:
        return None
    # Every finished seed competes, also one whose model.keras is not on this machine (per-seed models
    # stay out of git): a newly trained seed must not replace the committed best just because it is local.
    best, best_dir = max(finished, key=lambda t: (t[0].val["accuracy"], -t[0].seed))
    dst = Path(out) / RUNS / cell / "best"
    chosen = {"seed": best.seed, "run": best_dir.name, "chosen_by": "highest validation accuracy"}
    current = dst / "chosen.json"
    if current.exists() and json.loads(current.read_text()) == chosen:
        return chosen
    if not (best_dir / "model.keras").exists():
        return json.loads(current.read_text()) if current.exists() else None  # the best model is not here to copy
    with atomic_path(dst, force=True, directory=True) as tmp:
        for name in ("model.keras", "model.json"):
            shutil.copy2(best_dir / name, tmp / name)
        (tmp / "chosen.json").write_text(json.dumps(chosen) + "\n")
    return chosen


def _data_path(cell: DataCell, data_root: Path, csv_path: Path) -> str:
    """The file or folder a run's images came from, as the model card records it (for calibration)."""
    if cell.loader == "csv":
        return str(Path(csv_path).resolve())
    return str((Path(data_root) / "train").resolve() if cell.images == "train" else Path(data_root).resolve())


def run_factorial(
    exp: Experiment,
    data_root: Path,
    out: Path,
    variants: list[str],
    seeds: int | None = None,
    csv_path: Path | None = None,
    cache_dir: Path | None = None,
    overrides: dict[str, Any] | None = None,
    only: list[str] | None = None,
    command: str = "",
    log: Callable[[str], None] = print,
    force: bool = False,
    loader: Callable[..., Any] | None = None,
) -> list[dict[str, Any]]:
    """Train every pending cell x seed (seed-major, so every cell gets a first seed early).

    ``loader(cell, data_root, cache_dir, csv_path)`` returns a FerDataset (default: the real
    loaders of ``fer_edge.training.datasets``); each data cell is loaded once, when first needed.
    Finished runs whose recorded protocol differs from this one are refused before any work,
    or with ``force`` retrained (each replaced only when its new run is complete).
    """
    from dataclasses import replace

    from fer_edge.training.datasets import load_cell
    from fer_edge.training.run import RunSpec, train_run

    unknown = [v for v in variants if v not in exp.variants]
    if unknown:
        raise FerEdgeError(f"unknown variant {unknown[0]!r}; {exp.source} defines {', '.join(exp.variants)}")
    loader = loader or load_cell
    out = Path(out)
    cache_dir = Path(cache_dir) if cache_dir else out / ".cache"
    n_seeds = seeds or exp.seeds
    protocol = replace(exp.protocol, **(overrides or {}))
    cells = exp.cells(variants)
    if only:
        cells = [c for c in cells if cell_name(*c) in only or c[0] in only]
        if not cells:
            raise FerEdgeError(f"--only {','.join(only)} matches no cell of {', '.join(variants)}")
    plan = [(seed, d, a) for seed in range(n_seeds) for d, a in cells]
    loaded: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    out.mkdir(parents=True, exist_ok=True)
    for p in _clean_partial(out):
        log(f"removed the unfinished run {p} (it is retrained)")
    stale = _stale_runs(out, plan, protocol, exp)
    if stale and not force:
        (cell, seed), diffs = next(iter(stale.items()))
        what = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in diffs.items())
        raise FerEdgeError(
            f"{run_dir(out, cell, seed)}: {len(stale)} finished run(s) used another protocol ({what}); "
            "pass --force to retrain them with this one, or choose another --out"
        )
    recorded = out / EXPERIMENT_FILE
    if exp.raw and (not recorded.exists() or json.loads(recorded.read_text()) != exp.raw):
        if recorded.exists():
            log(f"{recorded}: replaced by the definition this run uses ({exp.source})")
        write_text(recorded, json.dumps(exp.raw, indent=2) + "\n")
    if loader is load_cell:
        from fer_edge.training.datachecks import CHECKS_FILE, ensure_data_checks
        from fer_edge.training.datasets import ensure_kaggle_csv

        if not (out / CHECKS_FILE).exists():
            log("checking the data cells (decoders, CSV = directory, duplicates) once ...")
        ensure_data_checks(out, data_root, csv_path or ensure_kaggle_csv(data_root, cache_dir))
    pending = [
        x for x in plan if not is_done(out, cell_name(x[1], x[2]), x[0]) or (cell_name(x[1], x[2]), x[0]) in stale
    ]
    log(
        f"factorial {exp.name}: variants {', '.join(variants)}; {len(cells)} cells, {n_seeds} seeds = "
        f"{len(plan)} runs, {len(plan) - len(pending)} already done, {len(pending)} to run"
    )
    arch_names = exp.all_architectures()
    for i, (seed, d, a) in enumerate(plan, 1):
        cell = cell_name(d, a)
        target = run_dir(out, cell, seed)
        if is_done(out, cell, seed) and (cell, seed) not in stale:
            log(f"[{i}/{len(plan)}] {cell} seed {seed}: done already, skipped")
            results.append(json.loads((target / METRICS_FILE).read_text()))
            continue
        lock = RunLock(out, cell, seed)
        if not lock.acquire():
            log(f"[{i}/{len(plan)}] {cell} seed {seed}: another runner is training it, skipped")
            continue
        try:
            if is_done(out, cell, seed) and (cell, seed) not in stale:  # finished while we waited
                results.append(json.loads((target / METRICS_FILE).read_text()))
                continue
            data_cell = exp.data[d]
            if d not in loaded:
                t = time.perf_counter()
                loaded[d] = loader(data_cell, data_root, cache_dir, csv_path)
                log(f"loaded data cell {d}: {len(loaded[d])} images in {time.perf_counter() - t:.1f} s")
            log(f"[{i}/{len(plan)}] {cell} seed {seed}: training")
            spec = RunSpec(
                arch=arch_names[a],
                channels=data_cell.channels,
                seed=seed,
                config=protocol,
                split=exp.split_of(d),
                data={
                    "path": _data_path(data_cell, data_root, csv_path or cache_dir / "fer2013_from_directory.csv"),
                    "cell": d,
                    "loader": data_cell.loader,
                    "image_set": data_cell.images,
                    "channels": data_cell.channels,
                    "root": str(data_root),
                    "csv": str(csv_path) if csv_path else None,
                    "about": data_cell.about,
                },
                cell=cell,
                command=command,
            )
            metrics = train_run(loaded[d], spec, target, force=(cell, seed) in stale, log=log)
            results.append(metrics)
            chosen = update_best(out, cell)
        finally:
            lock.release()
        log(
            f"[{i}/{len(plan)}] {cell} seed {seed}: {metrics['seconds_total']:.0f} s for the cell run, "
            f"{metrics['fit']['seconds_per_epoch']:.1f} s/epoch; best seed so far {chosen['seed'] if chosen else '-'}"
        )
    return results
