"""The one registry of projects. The CLI (`twins list/run/test/bench/diff`), the benchmarks
runner's project names and the README's project table all come from it, and the tests check
that the folders it names exist.

A project ``name`` lives in:
- ``scratch/projects/<name>/``: the twinned files and the project's shared files;
- ``reference/projects/<name>/``: the twinned files only, under the same names;
- ``twins/demos/<name>.py``: its main job (``run(out_dir, datasets, ...)`` and ``summary``);
- ``benchmarks/bench_<name>.py``: its timing cases (``cases(dtype, quick)``);
- ``parity_tests/projects/<name>/``: its parity tests.
"""
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Library twins a project may train through: scratch/<file> against reference/<file>.
LIBRARY_TWINS = ("training.py",)


@dataclass(frozen=True)
class Project:
    name: str  # the one name every command takes
    number: int  # in the curriculum
    title: str
    datasets: tuple  # what `twins run --dataset` accepts; the first is the default
    twinned: tuple  # file names present in both project packages
    library_twins: tuple = ("training.py",)  # library loop twins the project trains through

    @property
    def scratch_dir(self):
        return ROOT / "scratch" / "projects" / self.name

    @property
    def reference_dir(self):
        return ROOT / "reference" / "projects" / self.name

    @property
    def demo(self):
        return f"twins.demos.{self.name}"

    @property
    def benchmark(self):
        return f"benchmarks.bench_{self.name}"

    @property
    def tests(self):
        return ROOT / "parity_tests" / "projects" / self.name

    def twin_paths(self):
        """(scratch path, reference path) of every twinned file: the project's, then the library loops'."""
        pairs = [(self.scratch_dir / name, self.reference_dir / name) for name in self.twinned]
        return pairs + [(ROOT / "scratch" / name, ROOT / "reference" / name) for name in self.library_twins]


PROJECTS = {project.name: project for project in (
    Project("recommender", 1, "Recommender systems: matrix factorisation and collaborative filtering",
            ("movielens", "movielens-sample"), ("model.py", "baselines.py", "train.py")),
    Project("mlp", 2, "Neural network from scratch with backpropagation", ("digits", "fashion-mnist"), ("model.py",)),
    Project("nlp", 3, "Text classification: TF-IDF and a transformer", ("reuters-r8", "20newsgroups", "slo-opinion"),
            ("model.py", "linear_models.py")),
    Project("cnn", 4, "Convolutional networks from scratch", ("digits", "fashion-mnist"), ("model.py",)),
    Project("forecasting", 5, "Recurrent networks and time-series forecasting", ("co2", "sunspots"),
            ("model.py", "baselines.py")),
    Project("rl", 11, "Reinforcement learning: tabular control against an exact oracle, and DQN",
            ("standard", "frozenlake", "taxi", "cliffwalking", "cartpole", "acrobot"), ("dqn.py", "train.py"), library_twins=()),
    Project("gan", 12, "Generative adversarial networks: DCGAN and an MLP GAN", ("digits", "fashion-mnist"),
            ("model.py", "train.py"), library_twins=()),
    Project("autoencoder", 13, "Autoencoders for dimensionality reduction: dense, convolutional, denoising and variational",
            ("digits", "fashion-mnist"), ("model.py", "train.py"), library_twins=()),
    Project("ensembles", 14, "Ensembles: trees, bagging, forests, boosting and stacking, bit-exact against scikit-learn",
            ("breast-cancer", "diabetes", "wine", "digits", "fashion-mnist"),
            ("tree.py", "forest.py", "boosting.py", "adaboost.py", "hist.py", "stacking.py", "inspection.py", "voting.py"),
            library_twins=()),
    Project("bayesopt", 15, "Hyperparameter optimisation with Bayesian optimisation: Gaussian processes",
            ("branin", "hartmann6", "co2", "digits-mlp"), ("kernels.py", "gp.py", "acquisition.py"), library_twins=()),
    Project("gnn", 16, "Graph neural networks: GCN, GAT and GraphSAGE against PyTorch Geometric", ("drosophila", "karate", "reuters-r8"),
            ("layers.py", "model.py", "train.py"), library_twins=()),
    Project("seq2seq", 17, "Sequence-to-sequence transformer: grapheme-to-phoneme on CMUdict", ("cmudict", "copy", "reverse", "sort"),
            ("model.py",), library_twins=()),
    Project("federated", 18, "Federated learning: FedAvg, FedProx, SCAFFOLD and FedAdam on Flower's engine", ("digits", "fashion-mnist"),
            ("client.py", "privacy.py"), library_twins=()),
    Project("explain", 19, "Model interpretability: Shapley values, TreeSHAP, LIME and gradient attributions against shap, lime and Captum",
            ("breast-cancer", "diabetes", "reuters-r8", "digits", "fashion-mnist"),
            ("shapley.py", "treeshap.py", "lime_tabular.py", "lime_text.py", "lime_image.py",
             "attribution.py"), library_twins=()),
    Project("mlops", 20, "A production ML pipeline: tracked training, a parity-gated registry, a NumPy-only model server, drift monitoring",
            ("gapminder", "digits", "fashion-mnist"), ("drift.py", "scorer.py")),
)}


def get(name):
    """The project called ``name``; a SystemExit naming the known ones otherwise."""
    if name not in PROJECTS:
        raise SystemExit(f"twins: unknown project {name!r}; expected one of: {', '.join(PROJECTS)} (see `twins list`)")
    return PROJECTS[name]


def markdown_table():
    """The README's project table."""
    rows = ["| # | project | title | twinned files | data sets |", "|---|---|---|---|---|"]
    for project in sorted(PROJECTS.values(), key=lambda p: p.number):
        files = ", ".join(f"`{name}`" for name in project.twinned)
        rows.append(f"| {project.number} | `{project.name}` | {project.title} | {files} | {', '.join(project.datasets)} |")
    return "\n".join(rows)
