"""`twins`: list the projects, run a demo, run its parity tests or benchmark, diff its twins.
Every command takes a project's name from the registry (twins/registry.py).

    twins list [--markdown]
    twins run mlp --dataset digits --out runs/mlp
    twins run cnn --quick
    twins run federated --deploy --quick
    twins test mlp [--profile thorough] [-- extra pytest args]
    twins bench mlp [--quick]
    twins diff mlp [--side-by-side | --html mlp.html]
"""
import argparse
import difflib
import html
import importlib
import inspect
import os
import shutil
import subprocess
import sys
from pathlib import Path

from twins.mlops.cli import add_commands as add_mlops_commands
from twins.registry import PROJECTS, ROOT, get, markdown_table


def cmd_list(args):
    if args.markdown:
        print(markdown_table())
        return 0
    print(f"{'project':<13}{'#':>3}  {'title':<70}twinned files")
    for name, project in PROJECTS.items():
        print(f"{name:<13}{project.number:>3}  {project.title:<70}{', '.join(project.twinned)}")
    return 0


def positive_int(text):
    """argparse type: a positive int, or a usage error that says what came."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {value}")
    return value


def chosen_datasets(project, names):
    """The data sets ``--dataset`` names (repeatable; 'all' alone means every one; none, the first)."""
    if not names:
        return project.datasets[:1]
    if "all" in names:
        if len(names) > 1:
            raise SystemExit(f"twins run {project.name}: --dataset: expected 'all' alone or data set names, got {names}")
        return project.datasets
    unknown = [name for name in names if name not in project.datasets]
    if unknown:
        raise SystemExit(f"twins run {project.name}: --dataset: unknown dataset {unknown[0]!r}; "
                         f"expected one of: {', '.join(project.datasets)}, all")
    return tuple(names)


def cmd_run(args):
    project = get(args.project)
    datasets = chosen_datasets(project, args.dataset)
    out = Path(args.out or f"runs/{args.project}")
    if out.exists() and not out.is_dir():
        raise SystemExit(f"twins run {args.project}: --out: expected a folder, got the file {out}")
    demo = importlib.import_module(project.demo)
    extra = {}
    if args.deploy:  # passed only when given, and only to a demo whose run() names it: other demos keep their signatures
        if "deploy" not in inspect.signature(demo.run).parameters:
            raise SystemExit(f"twins run {args.project}: --deploy: expected a project with a deployment engine, "
                             f"got {args.project!r}, whose demo has none")
        extra["deploy"] = True
    report = demo.run(out, datasets, num_epochs=args.epochs, study=not args.no_study,
                      compare_sklearn=not args.no_sklearn, progress=not args.no_progress, quick=args.quick, **extra)
    print(demo.summary(report))
    print(f"metrics and plots in {out}/: " + ", ".join(sorted(p.name for p in out.iterdir())))
    return 0


def cmd_test(args):
    project = get(args.project)
    env = dict(os.environ, HYPOTHESIS_PROFILE=args.profile)
    return subprocess.call([sys.executable, "-m", "pytest", str(project.tests), *args.pytest_args], cwd=ROOT, env=env)


def cmd_bench(args):
    project = get(args.project)
    command = [sys.executable, "-m", "benchmarks", "--project", project.name] + (["--quick"] if args.quick else [])
    return subprocess.call(command, cwd=ROOT)


def cmd_diff(args):
    pairs = [(scratch, reference, scratch.relative_to(ROOT).as_posix(), reference.relative_to(ROOT).as_posix())
             for scratch, reference in get(args.project).twin_paths()]
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(html_page(args.project, pairs))
        print(f"wrote {args.html}: {len(pairs)} twinned files side by side")
        return 0
    for scratch, reference, scratch_name, reference_name in pairs:
        _print_diff(scratch.read_text().splitlines(), reference.read_text().splitlines(),
                    scratch_name, reference_name, args.side_by_side)
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


PAGE_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table.diff { font-family: monospace; font-size: 12px; border-collapse: collapse; width: 100%; margin-bottom: 2em; }
table.diff td { white-space: pre-wrap; vertical-align: top; padding: 0 4px; }
table.diff th.diff_header { background: #eee; text-align: left; }
td.diff_header { color: #888; text-align: right; }
td.diff_next { display: none; }
.diff_add { background: #cfc; } .diff_chg { background: #ffe08a; } .diff_sub { background: #fbb; }
"""


def html_page(project, pairs):
    """One self-contained page: each twinned file with scratch on the left and torch on the right,
    aligned line by line, the lines that differ marked (difflib's HtmlDiff tables)."""
    differ = difflib.HtmlDiff(tabsize=4, wrapcolumn=100)
    sections = []
    for scratch, reference, scratch_name, reference_name in pairs:
        table = differ.make_table(scratch.read_text().splitlines(), reference.read_text().splitlines(),
                                  html.escape(scratch_name), html.escape(reference_name))
        sections.append(f"<h2>{html.escape(scratch_name)} &harr; {html.escape(reference_name)}</h2>\n{table}")
    legend = ("<p>Scratch (NumPy, every backward by hand) on the left, the PyTorch twin on the right. "
              "<span class='diff_chg'>changed</span>, <span class='diff_sub'>only in scratch</span>, "
              "<span class='diff_add'>only in torch</span>.</p>")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>twins diff {html.escape(project)}</title>"
            f"<style>{PAGE_STYLE}</style></head>\n<body><h1>{html.escape(project)}: scratch vs torch</h1>{legend}\n"
            + "\n".join(sections) + "\n</body></html>\n")


PROJECT_HELP = f"one of: {', '.join(PROJECTS)}"


def build_parser():
    parser = argparse.ArgumentParser(prog="twins", description="ML projects built twice: scratch NumPy and PyTorch twins. "
                                     f"Projects: {', '.join(PROJECTS)} (see `twins list`).")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="list the projects and their twinned files")
    listing.add_argument("--markdown", action="store_true", help="print the README's project table")
    listing.set_defaults(func=cmd_list)

    run = sub.add_parser("run", help="train a project's scratch model and torch twin; write metrics and plots")
    run.add_argument("project", help=PROJECT_HELP)
    run.add_argument("--dataset", action="append", metavar="NAME", help="data set to use (repeatable, or 'all'; default: the project's first)")
    run.add_argument("--out", metavar="DIR", help="output folder (default: runs/PROJECT)")
    run.add_argument("--epochs", type=positive_int, metavar="N", help="override the number of epochs (a positive int)")
    run.add_argument("--no-study", action="store_true", help="skip the hyperparameter study")
    run.add_argument("--no-sklearn", action="store_true", help="skip the scikit-learn comparison")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.add_argument("--quick", action="store_true", help="a small slice of the data and few epochs: a smoke run of a minute or two")
    run.add_argument("--deploy", action="store_true", help="on the project's deployment engine: separate processes on loopback (federated)")
    run.set_defaults(func=cmd_run)

    test = sub.add_parser("test", help="run a project's parity tests")
    test.add_argument("project", help=PROJECT_HELP)
    test.add_argument("--profile", choices=("ci", "thorough"), default="ci", help="hypothesis profile (default: ci)")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: arguments for pytest")
    test.set_defaults(func=cmd_test)

    bench = sub.add_parser("bench", help="time a project's scratch model against torch")
    bench.add_argument("project", help=PROJECT_HELP)
    bench.add_argument("--quick", action="store_true", help="few repeats, for a smoke run")
    bench.set_defaults(func=cmd_bench)

    diff = sub.add_parser("diff", help="show every twinned file of a project (and its training loop): scratch against torch")
    diff.add_argument("project", help=PROJECT_HELP)
    diff.add_argument("--side-by-side", "-y", action="store_true", help="two columns instead of a unified diff")
    diff.add_argument("--html", type=Path, metavar="FILE", help="write one self-contained page, scratch left, torch right")
    diff.set_defaults(func=cmd_diff)
    add_mlops_commands(sub)  # Project 20: `twins mlops <stage>` and `twins serve` (twins/mlops/cli.py)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "pytest_args", None) and args.pytest_args[0] == "--":
        args.pytest_args = args.pytest_args[1:]
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
