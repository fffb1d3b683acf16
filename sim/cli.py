"""Command line of the cluster model.

    python -m sim run [--coupling C] [--capability K] [--seed S] [--json] ...
    python -m sim sweep EXPERIMENT.toml [--out DIR] [--max-runs N] [--workers N]
                        [--scheduler ADDR] [--no-worker-timeout SECONDS]
    python -m sim figures RESULTS_DIR [--out DIR]
    python -m sim figures --from-csv FIGURES_DIR --out DIR [--experiments DIR]
    python -m sim reproduce [--workers N] [--scheduler ADDR] [--update]
    python -m sim reproduce --budget DURATION [--sample-seed N] [--workers N]
    python -m sim calibrate CALIBRATION.toml [--out DIR] [--screen] [--workers N] ...
    python -m sim baseline | params [--json] | --version

User mistakes (a bad option, a value out of range) end with one line on stderr and exit
code 2, never a traceback. ``sweep`` and ``reproduce`` exit with

    0    done
    1    reproduce only: a regenerated figure differs from the committed one (with
         ``--budget``: a re-simulated run differs from its committed per-run results)
    2    a user mistake, including a scheduler address (``--scheduler`` or
         ``$DASK_SCHEDULER_ADDRESS``) that is malformed or where no Dask scheduler answers
    3    the cluster stopped the sweep: no worker for ``--no-worker-timeout`` seconds, the
         scheduler lost, or a worker running other code (refused before it runs anything)
    4    sweep only: it ended without the whole design stored (the manifest says
         ``incomplete`` and why); the same command completes it
    130  Ctrl-C (SIGINT)
    143  SIGTERM, handled like Ctrl-C

and on 3, 130 and 143 the runs finished so far are stored, the manifest says
``interrupted``, and the same command resumes the sweep.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sim import __version__
from sim.params import CAPABILITY_BASELINE_2018, PROGRAMME_NAMES, ParameterError, Params
from sim.runs import baseline, run

EXIT_USAGE = 2
EXIT_INCOMPLETE = 4
#: Most worker processes an embedded cluster starts (``--workers``): more than a machine
#: has cores only queues runs, and thousands exhaust its memory and processes first.
MAX_WORKERS = 256
#: Most seeds ``baseline`` averages over (``--seeds``): each is a full run.
MAX_SEEDS = 10_000
#: The seed of ``reproduce --budget``'s sample unless ``--sample-seed`` gives another.
DEFAULT_SAMPLE_SEED = 0
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
_RESUMABLE = ("sweep", "reproduce", "calibrate")
_RESUME = "finished runs are stored, run the same command again to resume"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is, so a command stops as on Ctrl-C."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors fit on one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def _programme(name: str, value: str) -> dict[str, Any]:
    """The inputs of ``--programme NAME=BUDGET[@START]``."""
    if name not in PROGRAMME_NAMES:
        raise ParameterError(f"--programme: unknown programme {name!r}; known: "
                             f"{', '.join(PROGRAMME_NAMES)}")
    budget, _, start = value.partition("@")
    inputs = {f"{name}_budget": _coerce(f"{name}_budget", budget)}
    if start:
        inputs[f"{name}_start"] = _coerce(f"{name}_start", start)
    return inputs


def _coerce(name: str, value: str) -> Any:
    """Turn the text of ``--set name=value`` into the parameter's type."""
    spec = Params.describe().get(name)
    if spec is None:
        raise ParameterError(f"unknown parameter {name!r} (see 'python -m sim params')")
    kind = spec["kind"]
    if kind is bool:
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ParameterError(f"{name} must be true or false, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ParameterError(f"{name} must be a number, got {value!r}") from None
    return int(number) if kind is int and number.is_integer() else number


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sim", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run_cmd = commands.add_parser("run", help="one simulation to the horizon, with its "
                                  "summary and emergent scenario")
    run_cmd.add_argument("--coupling", type=float, help="inter-cluster tie strength "
                         "in [0, 1] (default 0.2)")
    run_cmd.add_argument("--capability", type=float, help="capability endowment of both "
                         "clusters in [0, 1] (default 0.5)")
    run_cmd.add_argument("--capability-daedeok", type=float, help="Daedeok's own endowment")
    run_cmd.add_argument("--capability-pangyo", type=float, help="Pangyo's own endowment")
    run_cmd.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    run_cmd.add_argument("--scale", type=float, help="population multiplier (default 1)")
    run_cmd.add_argument("--until", type=int, dest="until_year", metavar="YEAR",
                         help="last simulated year (default 2030)")
    run_cmd.add_argument("--shared-vision", action="store_true", default=None,
                         help="policy 1: staged coupling ramp, coordinated matching")
    run_cmd.add_argument("--cooperation-programme", action="store_true", default=None,
                         help="policy 2: wide-area cooperation programme")
    run_cmd.add_argument("--open-innovation", action="store_true", default=None,
                         help="policy 3: open-innovation venture ecosystem")
    run_cmd.add_argument("--programme", type=_assignment, action="append", default=[],
                         metavar="NAME=BUDGET[@START]",
                         help="a budgeted programme (repeatable): NAME one of "
                         f"{', '.join(PROGRAMME_NAMES)}, BUDGET in KRW billion a year, "
                         "START its first year (default 2026); e.g. cooperation=50@2026. "
                         "Years, shares and unit costs: --set NAME_years=5 ...")
    run_cmd.add_argument("--profile", metavar="NAME|PATH",
                         help="start from a parameter profile instead of the defaults: a "
                         "shipped one by name (e.g. legacy) or a profile file "
                         "(e.g. ./mine.toml: [parameters] NAME = VALUE)")
    run_cmd.add_argument("--set", type=_assignment, action="append", default=[],
                         metavar="NAME=VALUE", help="any other parameter (repeatable)")
    run_cmd.add_argument("--json", action="store_true", help="print one JSON object")

    base = commands.add_parser("baseline", help="recompute the 2018 capability baseline "
                               "(the 'high capability' threshold)")
    base.add_argument("--seeds", type=int, default=10, help="number of seeds, 1 to "
                      f"{MAX_SEEDS:,} (default 10)")
    base.add_argument("--scale", type=float, default=1.0)

    params_cmd = commands.add_parser("params", help="list every parameter with default, "
                                     "range, help")
    params_cmd.add_argument("--json", action="store_true", help="print one JSON object: "
                            "each parameter's default, unit, range, type and help")

    sweep = commands.add_parser("sweep", help="run an experiment file (resumable)")
    sweep.add_argument("experiment", type=Path, help="experiment TOML file")
    sweep.add_argument("--out", type=Path, help="results directory (default "
                       "results/<experiment name>)")
    sweep.add_argument("--max-runs", type=int, metavar="N", help="allow a design of up "
                       "to N runs (points x replicates), instead of the file's max_runs "
                       "or the default 1,000,000")
    _executor_options(sweep)
    _storage_options(sweep)

    figures = commands.add_parser("figures", help="draw the figures of a results directory, "
                                  "or redraw figures from their data (--from-csv)")
    figures.add_argument("results", type=Path, nargs="?", help="results directory of a sweep")
    figures.add_argument("--out", type=Path, help="where to write them (default "
                         "RESULTS/figures; required with --from-csv)")
    figures.add_argument("--from-csv", type=Path, metavar="FIGURES_DIR",
                         help="redraw the figures from their CSV files in this folder "
                         "(e.g. figures), without the runs")
    figures.add_argument("--experiments", type=Path, metavar="DIR", help="with --from-csv: "
                         "the experiment files that made the figures (default "
                         "experiments/publication)")
    _partial_option(figures)

    reproduce = commands.add_parser("reproduce", help="re-run the publication "
                                    "experiments and compare with the committed figures")
    reproduce.add_argument("--experiments", type=Path,
                           default=Path("experiments/publication"),
                           help="folder of experiment files (default %(default)s)")
    reproduce.add_argument("--figures", type=Path, default=Path("figures"),
                           help="committed figures and their data (default %(default)s)")
    reproduce.add_argument("--results", type=Path, default=Path("results/publication"),
                           help="where the runs are stored (default %(default)s)")
    reproduce.add_argument("--update", action="store_true", help="write the regenerated "
                           "figures into --figures instead of comparing, and each "
                           "experiment's per-run results into --figures/runs")
    reproduce.add_argument("--budget", type=_duration, metavar="DURATION",
                           help="run no sweep: re-simulate a seeded sample of the committed "
                           "runs (--figures/runs) of every experiment in turn for this long "
                           "(e.g. 90s, 10m, 1h) and compare every number exactly")
    reproduce.add_argument("--sample-seed", type=int, metavar="N",
                           help=f"with --budget: the seed of the sample (default "
                           f"{DEFAULT_SAMPLE_SEED})")
    _executor_options(reproduce)
    _storage_options(reproduce)
    _partial_option(reproduce)

    calibrate = commands.add_parser("calibrate", help="calibrate the model against the "
                                    "observed targets (ABC-SMC; resumable)")
    calibrate.add_argument("calibration", type=Path, help="calibration TOML file")
    calibrate.add_argument("--out", type=Path, help="results directory (default "
                           "results/<calibration name>)")
    calibrate.add_argument("--screen", action="store_true", help="run only the file's "
                           "[screening]: a Morris screening of the candidate parameters, "
                           "written to OUT/screening.csv")
    _executor_options(calibrate)
    return parser


def _duration(text: str) -> float:
    """Seconds of ``--budget``; argparse reports a bad value in one line (exit 2)."""
    from sim.spot_check import parse_budget

    try:
        return parse_budget(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _storage_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-code-change", action="store_true",
                        help="add runs to a results directory whose stored runs were made "
                        "by other code (refused otherwise; the manifest lists each code "
                        "and its runs)")


def _partial_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-partial", action="store_true",
                        help="draw from a results directory that is not the whole design "
                        "(refused otherwise): the figures and their CSV say what is missing")


def _executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes of the embedded Dask cluster, 1 to "
                        f"{MAX_WORKERS}; 1 runs in-process (default: the machine's cores)")
    parser.add_argument("--scheduler",
                        help="address of an existing Dask scheduler, tcp://HOST:PORT or "
                        "HOST:PORT (default: $DASK_SCHEDULER_ADDRESS, else an embedded "
                        "cluster)")
    parser.add_argument("--no-worker-timeout", type=float, metavar="SECONDS",
                        help="stop (exit 3, finished runs stored) after this long with no "
                        "Dask worker or no answer from the scheduler (default 120)")
    parser.add_argument("--dashboard", action="store_true",
                        help="serve the embedded cluster's Dask dashboard")
    parser.add_argument("--quiet", action="store_true", help="no progress report")


def _run(args: argparse.Namespace) -> int:
    parameters = {name: getattr(args, name) for name in (
        "coupling", "capability", "capability_daedeok", "capability_pangyo", "scale",
        "until_year", "shared_vision", "cooperation_programme", "open_innovation")
        if getattr(args, name) is not None}
    if args.profile is not None:
        from sim.profile import profile_values

        parameters = {**profile_values(args.profile), **parameters}
    for name, value in args.programme:
        parameters |= _programme(name, value)
    for name, value in args.set:
        parameters[name] = _coerce(name, value)
    params = Params(**parameters)  # validate before any work
    if args.seed < 0:
        raise ParameterError(f"--seed must be a non-negative integer, got {args.seed}")
    model = run(args.seed, **parameters)
    summary = model.summary()
    if args.json:
        print(json.dumps({**summary, "parameters": params.as_dict()}, sort_keys=True))
    else:
        print(_readable(summary, params))
    return 0


def _readable(summary: dict[str, Any], params: Params) -> str:
    lines = [
        f"Two clusters, 2018Q1-{summary['quarter']}: coupling {params.coupling}, "
        f"capability {params.capability}, scale {params.scale}, seed {summary['seed']}",
        "",
        f"  scenario            {summary['scenario']}",
        f"  coupling type       {summary['coupling_type']}",
        *([] if summary["paired_synergy"] is None else [
            f"  paired synergy      {summary['paired_synergy']:+.1%} innovations over the "
            "same run at coupling 0 (synergy only if positive)"]),
        f"  capability index    {summary['capability_index']:.3f} innovations/agent/year "
        f"(high from {summary['capability_threshold']:.3f})",
        f"    Daedeok / Pangyo  {summary['capability_index_daedeok']:.3f} / "
        f"{summary['capability_index_pangyo']:.3f}",
        f"  cooperation index   {summary['cooperation_index']:.3f} of collaborations cross "
        f"(high from {params.cooperation_threshold})",
        f"  distinctiveness     {summary['distinctiveness']:.3f} of the 2018 distance "
        f"(distinctive from {params.distinctiveness_threshold})",
        f"  innovations         {summary['innovations_total']} "
        f"({summary['innovations_inter']} inter-cluster)",
        f"  ventures alive      {summary['ventures_alive']} (Daedeok "
        f"{summary['ventures_daedeok']}, Pangyo {summary['ventures_pangyo']})",
        f"  capability stock    Daedeok {summary['capability_stock_daedeok']:.3f}, Pangyo "
        f"{summary['capability_stock_pangyo']:.3f} (mean absorptive capacity, 0-1)",
        f"  spin-offs / entries / exits  {summary['births']} / {summary['entries']} / "
        f"{summary['exits']}",
        f"  scale-ups           {summary['scale_ups']}",
        *([] if summary["programme_spent"] == 0 else [
            f"  programmes spent    {summary['programme_spent']:.1f} KRW billion (full size)"]),
        f"  relocations         {summary['relocations']}",
        f"  ties                {summary['ties']} ({summary['inter_cluster_ties']} "
        f"inter-cluster), modularity {summary['modularity']:.3f}",
    ]
    return "\n".join(lines)


def _baseline(args: argparse.Namespace) -> int:
    if not 1 <= args.seeds <= MAX_SEEDS:
        raise ParameterError(f"--seeds must be between 1 and {MAX_SEEDS:,}, got "
                             f"{args.seeds}")
    Params(scale=args.scale)
    mean, std = baseline(args.scale, args.seeds)
    print(f"2018 capability index: {mean:.4f} (sd {std:.4f} over seeds 0-{args.seeds - 1}, "
          f"scale {args.scale}); the fixed default threshold is "
          f"{CAPABILITY_BASELINE_2018} (sim/params.py)")
    return 0


def _params(args: argparse.Namespace) -> int:
    if args.json:
        described = {name: {**spec, "kind": spec["kind"].__name__}
                     for name, spec in Params.describe().items()}
        print(json.dumps(described, indent=2))
        return 0
    for name, spec in Params.describe().items():
        low, high = spec["low"], spec["high"]
        opening = "(" if spec["low_open"] else "["
        span = f" {opening}{low}, {high}]" if low is not None else ""
        unit = f" {spec['unit']}" if spec["unit"] else ""
        print(f"{name} = {spec['default']!r}{unit}{span}: {spec['help']}")
    return 0


def _executor(args: argparse.Namespace):
    """The executor the options ask for; a scheduler's address is checked (its syntax,
    then that a Dask scheduler answers there) before anything is written."""
    from sim.sweep.execute import (
        NO_WORKER_TIMEOUT,
        DaskExecutor,
        InProcessExecutor,
        parse_scheduler_address,
    )

    if not 1 <= args.workers <= MAX_WORKERS:
        raise ParameterError(f"--workers must be between 1 and {MAX_WORKERS}, got "
                             f"{args.workers}")
    timeout = args.no_worker_timeout
    if timeout is None:
        timeout = NO_WORKER_TIMEOUT
    elif not 0 < timeout < float("inf"):
        raise ParameterError(f"--no-worker-timeout must be a positive number of seconds, "
                             f"got {args.no_worker_timeout}")
    if args.scheduler is not None:
        args.scheduler = parse_scheduler_address(args.scheduler, "--scheduler")
    elif os.environ.get("DASK_SCHEDULER_ADDRESS", "").strip():
        args.scheduler = parse_scheduler_address(os.environ["DASK_SCHEDULER_ADDRESS"],
                                                 "$DASK_SCHEDULER_ADDRESS")
    if args.scheduler:
        executor = DaskExecutor(scheduler=args.scheduler, no_worker_timeout=timeout)
        executor.probe()
        return executor
    if args.workers == 1:
        return InProcessExecutor()
    return DaskExecutor(workers=args.workers, dashboard=args.dashboard,
                        no_worker_timeout=timeout)


def _sweep(args: argparse.Namespace) -> int:
    from sim.sweep import ResultStore, load, run_sweep
    from sim.sweep.estimate import estimate

    # everything is checked before any run, the design's size first
    experiment = load(args.experiment, max_runs=args.max_runs)
    out = args.out or Path("results") / experiment.name
    executor = _executor(args)
    cost = estimate(experiment).line(None if args.scheduler else args.workers)
    # Checked and locked before Dask starts: a directory of another experiment or code,
    # or one another sweep is writing, is refused at once; the lock is kept to the end.
    with ResultStore(out, experiment, allow_code_change=args.allow_code_change):
        print(f"sweep {experiment.name}: {experiment.run_count:,} runs on "
              f"{executor.describe()}, results in {out}; {cost}", file=sys.stderr)
        runs = run_sweep(experiment, out, executor, progress=not args.quiet,
                         allow_code_change=args.allow_code_change)
    print(f"{len(runs)} runs stored in {out / 'runs.parquet'}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("status") != "complete":
        print(f"python -m sim sweep: {out} is incomplete "
              f"({manifest.get('incomplete_reason', manifest.get('status'))}); run the same "
              "command again to complete it", file=sys.stderr)
        return EXIT_INCOMPLETE
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from sim.inference.problem import load
    from sim.inference.run import calibrate, check_directory, screen_into

    calibration = load(args.calibration)  # everything is checked before any run
    out = args.out or Path("results") / calibration.name
    executor = _executor(args)
    check_directory(calibration, out)
    if args.screen:
        if calibration.screening is None:
            raise ParameterError(f"{args.calibration} has no [screening] table")
        print(f"screening {len(calibration.screening.ranges)} parameters of "
              f"{calibration.name} on {executor.describe()}", file=sys.stderr)
        print(screen_into(calibration, out, executor))
        return 0
    print(f"calibrate {calibration.name}: {len(calibration.priors)} parameters, "
          f"population {calibration.population_size}, {calibration.generations} "
          f"generations on {executor.describe()}, results in {out}", file=sys.stderr)
    calibrate(calibration, out, executor, progress=not args.quiet)
    print(out)
    return 0


def _figures(args: argparse.Namespace) -> int:
    from sim.analyses import draw, redraw

    if args.from_csv is None:
        if args.results is None:
            raise ParameterError("give a results directory, or --from-csv FIGURES_DIR")
        if args.experiments is not None:
            raise ParameterError("--experiments goes with --from-csv")
        from sim.inference.report import draw_calibration, is_calibration

        if is_calibration(args.results):
            for path in draw_calibration(args.results, args.out or args.results / "figures"):
                print(path)
            return 0
        try:
            paths = draw(args.results, args.out or args.results / "figures",
                         allow_partial=args.allow_partial)
        except ValueError as error:  # results that cannot support their analysis
            raise ParameterError(str(error)) from None
    else:
        if args.results is not None:
            raise ParameterError("give a results directory or --from-csv, not both")
        if args.out is None:
            # no default: the natural one, the data's own folder, would overwrite the
            # committed figures
            raise ParameterError("--from-csv needs --out DIR")
        experiments = args.experiments or Path("experiments/publication")
        try:
            paths = redraw(args.from_csv, args.out, experiments)
            # the calibrations beside the experiments: what their CSV can redraw
            for calibration in sorted((experiments / "calibration").glob("*.toml")):
                from sim.inference.report import redraw_calibration

                redrawn, skipped = redraw_calibration(args.from_csv, args.out, calibration)
                paths += redrawn
                for note in skipped:
                    print(f"note: {note}", file=sys.stderr)
        except ValueError as error:  # a missing or malformed file, named in the message
            raise ParameterError(str(error)) from None
    for path in paths:
        print(path)
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from sim.analyses import draw
    from sim.sweep import load, run_sweep

    started = time.monotonic()  # --budget counts from here: the loading takes time too
    if args.budget is not None and args.update:
        raise ParameterError("--budget checks the committed runs and --update rewrites "
                             "them: give one of them")
    if args.sample_seed is not None and args.budget is None:
        raise ParameterError("--sample-seed goes with --budget DURATION")
    if args.sample_seed is not None and args.sample_seed < 0:
        raise ParameterError(f"--sample-seed must be a non-negative integer, got "
                             f"{args.sample_seed}")
    files = sorted(args.experiments.glob("*.toml"))
    if not files:
        raise ParameterError(f"no experiment files (*.toml) in {args.experiments}: point "
                             "--experiments at a folder of them (experiments/publication "
                             "in a checkout or source archive of the project)")
    experiments = [load(path) for path in files]  # all checked before any run
    from sim.reproduce import check_figure_names

    try:  # two experiments writing one figure: refused before anything runs
        check_figure_names([(path, experiment.analysis, experiment.figure_prefix)
                            for path, experiment in zip(files, experiments, strict=True)])
    except ValueError as error:
        raise ParameterError(str(error)) from None
    from sim.inference.problem import load as load_calibration

    calibrations = [load_calibration(path)
                    for path in sorted((args.experiments / "calibration").glob("*.toml"))]
    if args.budget is not None:
        return _spot_check(experiments, calibrations, args, started)
    executor = _executor(args)
    failed = 0
    # where the time goes, said at the end: (name, all, of which drawing and checking)
    seconds: list[tuple[str, float, float]] = []
    # one cluster start-up for all the experiments and calibrations
    with executor.kept_running():
        for experiment in experiments:
            out = args.results / experiment.name
            print(f"reproduce {experiment.name}: {experiment.run_count:,} runs, results "
                  f"in {out}", file=sys.stderr)
            clock = time.monotonic()
            run_sweep(experiment, out, executor, progress=not args.quiet,
                      allow_code_change=args.allow_code_change)
            swept = time.monotonic()
            failed += _publish_or_compare(
                draw(out, out / "figures", allow_partial=args.allow_partial), args)
            if args.update:
                from sim.spot_check import publish_runs

                print(f"wrote {publish_runs(experiment, out, args.figures)}")
            now = time.monotonic()
            seconds.append((experiment.name, now - clock, now - swept))
        for calibration in calibrations:
            clock = time.monotonic()
            failed += _publish_or_compare(
                _reproduce_calibration(calibration, executor, args), args)
            seconds.append((f"{calibration.name} (calibration)", time.monotonic() - clock,
                            math.nan))
    total = time.monotonic() - started
    print("time: " + ", ".join(
        f"{name} {elapsed:.0f} s" + ("" if math.isnan(drawing) else
                                     f" ({drawing:.0f} s drawing and checking)")
        for name, elapsed, drawing in seconds)
          + f"; {total:.0f} s in all (runs already stored are not run again)",
          file=sys.stderr)
    return 1 if failed else 0


def _spot_check(experiments: list[Any], calibrations: list[Any],
                args: argparse.Namespace, started: float) -> int:
    """``reproduce --budget``: re-simulate a seeded sample of every experiment's committed
    runs until the budget's time (from ``started``, a ``time.monotonic()`` reading) is
    spent; a line per experiment and a total. 1 if a run differs."""
    from sim.spot_check import read_committed, spot_check

    try:  # every per-run file read before any run
        committed = [read_committed(experiment, args.figures) for experiment in experiments]
    except (OSError, ValueError) as error:
        raise ParameterError(str(error)) from None
    seed = DEFAULT_SAMPLE_SEED if args.sample_seed is None else args.sample_seed
    executor = _executor(args)
    width = getattr(executor, "workers", 1) if args.workers > 1 or args.scheduler else 1
    print(f"reproduce --budget {args.budget:g} s: a sample (seed {seed}) of the committed "
          f"runs of {len(experiments)} experiments in {args.figures / 'runs'}, re-simulated "
          f"on {executor.describe()}", file=sys.stderr)
    for calibration in calibrations:
        print(f"note: the calibration {calibration.name!r} is not spot-checked (its ABC-SMC "
              "has no per-run results; reproduce without --budget re-runs it)",
              file=sys.stderr)
    with executor:
        report = spot_check(committed, args.budget, executor.map_unordered, width, seed,
                            started=started)
    for tally in report.tallies:
        print(tally.line())
    print(report.total_line())
    if report.unchecked:
        print(f"note: no run of {', '.join(report.unchecked)} was checked within the "
              "budget: give a longer --budget to cover them", file=sys.stderr)
    return 0 if report.passed else 1


def _publish_or_compare(drawn: list[Path], args: argparse.Namespace) -> int:
    """With --update, copy the regenerated figures into --figures; else print a verdict
    per figure. Returns the number of figures that failed."""
    from sim.reproduce import publish, verdicts

    if args.update:
        publish(drawn, args.figures)
        for path in drawn:
            print(f"wrote {args.figures / path.name}")
        return 0
    failed = 0
    for verdict in verdicts(drawn, args.figures):
        print(verdict.line())
        failed += not verdict.passed
    return failed


def _reproduce_calibration(calibration: Any, executor: Any,
                           args: argparse.Namespace) -> list[Path]:
    """Run (or resume) a publication calibration and its screening on ``executor``;
    draw its figures."""
    from sim.inference.report import draw_calibration
    from sim.inference.run import SCREENING, calibrate, check_directory, screen_into

    out = args.results / calibration.name
    check_directory(calibration, out)
    print(f"reproduce {calibration.name}: calibration, results in {out}", file=sys.stderr)
    if calibration.screening is not None and not (out / SCREENING).exists():
        screen_into(calibration, out, executor)
    calibrate(calibration, out, executor, progress=not args.quiet)
    return draw_calibration(out, out / "figures")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While the command runs, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt),
    so it stops as on Ctrl-C: what finished is stored, the cluster is shut down. A second
    SIGTERM ends the process at once."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def terminate(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def main(argv: Sequence[str] | None = None) -> int:
    from sim.experiment.design import ExperimentError
    from sim.sweep.execute import EXIT_CLUSTER, ExecutorError

    args = build_parser().parse_args(argv)
    commands = {"run": _run, "baseline": _baseline, "params": _params,
                "sweep": _sweep, "figures": _figures, "reproduce": _reproduce,
                "calibrate": _calibrate}
    prefix = f"python -m sim {args.command}"
    try:
        with _sigterm_as_interrupt():
            return commands[args.command](args)
    except (ParameterError, ExperimentError) as error:
        print(f"{prefix}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ExecutorError as error:
        resume = (f"; {_RESUME}" if error.exit_code == EXIT_CLUSTER
                  and args.command in _RESUMABLE else "")
        print(f"{prefix}: error: {error}{resume}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as stop:
        how = " by SIGTERM" if isinstance(stop, Terminated) else ""
        resume = (f"; {_RESUME}" if args.command in _RESUMABLE
                  and getattr(args, "budget", None) is None else "")
        print(f"{prefix}: interrupted{how}{resume}", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    except OSError as error:  # e.g. an unreachable scheduler or unwritable --out
        print(f"python -m sim {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
