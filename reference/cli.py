"""`twins`: list the projects, run a demo, run its parity tests or benchmark, diff a twin pair.

    twins list
    twins run mlp --dataset digits --out runs/mlp
    twins run nlp --quick
    twins test mlp [--profile thorough] [-- extra pytest args]
    twins bench mlp [--quick]
    twins diff mlp [--side-by-side]
"""
import argparse
import difflib
import importlib
import inspect
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Project:
    number: int
    title: str
    module: str  # scratch/<module>.py and reference/<module>.py
    tests: tuple  # parity_tests/ files that prove the twins equal
    datasets: tuple


PROJECTS = {
    "recommender": Project(1, "Recommender systems: matrix factorisation and CF", "recommender",
                           ("test_recommender_data.py", "test_ranking_metrics.py", "test_recommender.py",
                            "test_recommender_baselines.py"), ("movielens", "movielens-sample")),
    "mlp": Project(2, "Neural network from scratch with backpropagation", "mlp",
                   ("test_layers.py", "test_losses.py", "test_optim.py", "test_module.py", "test_mlp.py"),
                   ("digits", "fashion-mnist")),
    "nlp": Project(3, "Text classification: TF-IDF and a transformer", "nlp",
                   ("test_text.py", "test_attention.py", "test_transformer.py", "test_nlp.py"),
                   ("reuters-r8", "20newsgroups", "slo-opinion")),
    "cnn": Project(4, "Convolutional networks from scratch", "cnn",
                   ("test_conv.py", "test_pooling.py", "test_batchnorm.py", "test_transforms.py", "test_cnn.py"),
                   ("digits", "fashion-mnist")),
    "forecasting": Project(5, "Recurrent networks and time-series forecasting", "forecasting",
                           ("test_rnn.py", "test_forecasting_data.py", "test_forecasting.py"), ("co2", "sunspots")),
}


def _project(name):
    if name not in PROJECTS:
        raise SystemExit(f"twins: unknown project {name!r}; expected one of: {', '.join(PROJECTS)} (see `twins list`)")
    return PROJECTS[name]


def cmd_list(args):
    print(f"{'project':<13}{'#':>3}  {'title':<52}twin files")
    for name, project in PROJECTS.items():
        files = [f"{side}/{project.module}.py" for side in ("scratch", "reference") if (ROOT / side / f"{project.module}.py").exists()]
        print(f"{name:<13}{project.number:>3}  {project.title:<52}{', '.join(files) or 'not built yet'}")
    return 0


def cmd_run(args):
    project = _project(args.project)
    datasets = project.datasets if args.dataset == ["all"] else args.dataset or project.datasets[:1]
    unknown = [d for d in datasets if d not in project.datasets]
    if unknown:
        raise SystemExit(f"twins run {args.project}: unknown dataset {unknown[0]!r}; expected one of: {', '.join(project.datasets)}, all")
    demo = importlib.import_module(f"reference.demos.{project.module}")
    out = Path(args.out or f"runs/{args.project}")
    extra = {}
    if args.quick:
        if "quick" not in inspect.signature(demo.run).parameters:
            raise SystemExit(f"twins run {args.project}: --quick is not available for this project")
        extra["quick"] = True
    report = demo.run(out, tuple(datasets), num_epochs=args.epochs, study=not args.no_study,
                      compare_sklearn=not args.no_sklearn, progress=not args.no_progress, **extra)
    print(demo.summary(report))
    print(f"metrics and plots in {out}/: " + ", ".join(sorted(p.name for p in out.iterdir())))
    return 0


def cmd_test(args):
    project = _project(args.project)
    env = dict(os.environ, HYPOTHESIS_PROFILE=args.profile)
    tests = [str(ROOT / "parity_tests" / name) for name in project.tests if (ROOT / "parity_tests" / name).exists()]
    return subprocess.call([sys.executable, "-m", "pytest", *tests, *args.pytest_args], cwd=ROOT, env=env)


def cmd_bench(args):
    _project(args.project)
    command = [sys.executable, "-m", "benchmarks", "--project", args.project] + (["--quick"] if args.quick else [])
    return subprocess.call(command, cwd=ROOT)


TRAINING_LOOP = "training"  # scratch/training.py and reference/training.py: the loop every project shares


def cmd_diff(args):
    project = _project(args.project)
    for module in (project.module, TRAINING_LOOP):
        scratch, reference = (ROOT / side / f"{module}.py" for side in ("scratch", "reference"))
        _print_diff(scratch.read_text().splitlines(), reference.read_text().splitlines(),
                    f"scratch/{module}.py", f"reference/{module}.py", args.side_by_side)
    return 0


def _print_diff(left, right, left_name, right_name, side_by_side):
    if not side_by_side:
        sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(left, right, left_name, right_name, lineterm=""))
        return
    width = (shutil.get_terminal_size((200, 40)).columns - 3) // 2
    marks = {"equal": " ", "replace": "|", "delete": "<", "insert": ">"}
    print(f"{left_name:<{width}}   {right_name}")
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, left, right, autojunk=False).get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            a = left[i1 + k] if i1 + k < i2 else ""
            b = right[j1 + k] if j1 + k < j2 else ""
            print(f"{a[:width]:<{width}} {marks[tag]} {b[:width]}")


def build_parser():
    parser = argparse.ArgumentParser(prog="twins", description="ML projects built twice: scratch NumPy and PyTorch twins.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the projects and their twin files").set_defaults(func=cmd_list)

    run = sub.add_parser("run", help="train a project's scratch model and torch twin; write metrics and plots")
    run.add_argument("project")
    run.add_argument("--dataset", action="append", metavar="NAME", help="data set to use (repeatable, or 'all'; default: the project's first)")
    run.add_argument("--out", metavar="DIR", help="output folder (default: runs/PROJECT)")
    run.add_argument("--epochs", type=int, metavar="N", help="override the number of epochs")
    run.add_argument("--no-study", action="store_true", help="skip the hyperparameter study")
    run.add_argument("--no-sklearn", action="store_true", help="skip the scikit-learn comparison")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.add_argument("--quick", action="store_true", help="a small slice of the data, for a smoke run (where a project has one)")
    run.set_defaults(func=cmd_run)

    test = sub.add_parser("test", help="run a project's parity tests")
    test.add_argument("project")
    test.add_argument("--profile", choices=("ci", "thorough"), default="ci", help="hypothesis profile (default: ci)")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: arguments for pytest")
    test.set_defaults(func=cmd_test)

    bench = sub.add_parser("bench", help="time a project's scratch model against torch")
    bench.add_argument("project")
    bench.add_argument("--quick", action="store_true", help="few repeats, for a smoke run")
    bench.set_defaults(func=cmd_bench)

    diff = sub.add_parser("diff", help="show a project's scratch and reference files, and the two training loops, against each other")
    diff.add_argument("project")
    diff.add_argument("--side-by-side", "-y", action="store_true", help="two columns instead of a unified diff")
    diff.set_defaults(func=cmd_diff)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "pytest_args", None) and args.pytest_args[0] == "--":
        args.pytest_args = args.pytest_args[1:]
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
