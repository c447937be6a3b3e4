"""Bad input to the `twins` command line: a usage error (status 2) or a message naming the
argument (non-zero status), never a traceback, and no output folder left behind."""
import pytest

from twins.cli import main
from twins.parity import BadInput, assert_bad_input
from twins.registry import PROJECTS


def run(*argv):
    return lambda: main(list(argv))


CASES = [
    BadInput("unknown project", run("run", "nosuch"), SystemExit, "project", r"unknown project 'nosuch'; expected one of: recommender"),
    BadInput("unknown project to diff", run("diff", "nope"), SystemExit, "project", r"unknown project 'nope'"),
    BadInput("unknown project to test", run("test", "nope"), SystemExit, "project", r"unknown project 'nope'"),
    BadInput("unknown project to bench", run("bench", "nope"), SystemExit, "project", r"unknown project 'nope'"),
    BadInput("unknown data set", run("run", "mlp", "--dataset", "mnist"), SystemExit, "--dataset",
             r"unknown dataset 'mnist'; expected one of: digits, fashion-mnist, all"),
    BadInput("'all' with another name", run("run", "mlp", "--dataset", "all", "--dataset", "nosuch"), SystemExit, "--dataset",
             r"expected 'all' alone or data set names, got \['all', 'nosuch'\]"),
    BadInput("a known name after an unknown one", run("run", "mlp", "--dataset", "digits", "--dataset", "nosuch"), SystemExit,
             "--dataset", r"unknown dataset 'nosuch'"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_arguments_are_named(case):
    caught = assert_bad_input(case)
    assert caught.code not in (0, None)


@pytest.mark.parametrize("argv, message", [
    (["run", "mlp", "--epochs", "-1"], "argument --epochs: expected a positive int, got -1"),
    (["run", "mlp", "--epochs", "0"], "argument --epochs: expected a positive int, got 0"),
    (["run", "mlp", "--epochs", "many"], "argument --epochs: expected a positive int, got 'many'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["list", "--colour"], "unrecognized arguments: --colour"),
    ([], "the following arguments are required: command"),
])
def test_usage_errors_exit_2_with_the_usage(argv, message, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    err = capsys.readouterr().err
    assert caught.value.code == 2 and "usage: twins" in err and message in err


def test_a_refused_run_leaves_no_output_folder(tmp_path):
    out = tmp_path / "never"
    for argv in (["run", "mlp", "--epochs", "-1", "--out", str(out)], ["run", "mlp", "--dataset", "mnist", "--out", str(out)]):
        with pytest.raises(SystemExit):
            main(argv)
    assert not out.exists()


def test_out_must_be_a_folder(tmp_path):
    file = tmp_path / "report.txt"
    file.write_text("")
    assert_bad_input(BadInput("--out is a file", run("run", "mlp", "--out", str(file)), SystemExit, "--out",
                              r"expected a folder, got the file"))


def test_help_lists_the_projects(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "one of: " + ", ".join(PROJECTS) in " ".join(capsys.readouterr().out.split())  # argparse wraps the line
