"""Project 20's promotion gate (never twinned): a candidate replaces the champion only if its
project's parity tests passed, it beats the champion on the same holdout by the margin, and no
class or slice got worse than the champion's by more than the threshold. Each check is a result
of its own, so the tracker can log every one."""
from dataclasses import dataclass

from scratch.projects.mlops.config import GateConfig


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    detail: str


def holdout_score(metrics, task):
    """The one number the gate ranks by, higher is better: accuracy, or minus the mean absolute error."""
    return metrics["accuracy"] if task == "classification" else -metrics["mae"]


def evaluate_gate(candidate, champion, task, parity_passed, config=None):
    """GateResults for a candidate's holdout metrics against the champion's (None: no champion yet).

    ``candidate``/``champion``: {"accuracy" or "mae": float, "slices": {slice name: the same metric}}.
    The margin is in accuracy points for classification and a fraction of the champion's MAE for
    regression; so is the slice threshold."""
    config = GateConfig() if config is None else config
    results = [GateResult("parity", bool(parity_passed), "the project's parity tests " + ("passed" if parity_passed else "failed"))]
    if champion is None:
        return results + [GateResult("beats champion", True, "no champion yet"), GateResult("slices", True, "no champion yet")]
    score, best = holdout_score(candidate, task), holdout_score(champion, task)
    needed = best + (config.margin if task == "classification" else config.margin * abs(best))
    results.append(GateResult("beats champion", score > needed,
                              f"holdout score {score:.4f} against the champion's {best:.4f} (needs > {needed:.4f})"))
    worse = {}
    for name, value in champion["slices"].items():
        got = candidate["slices"].get(name)
        if got is None:
            worse[name] = "missing"
            continue
        loss = (value - got) if task == "classification" else (got - value) / max(abs(value), 1e-12)
        if loss > config.max_slice_regression:
            worse[name] = f"{value:.4f} -> {got:.4f}"
    results.append(GateResult("slices", not worse, f"regressed past {config.max_slice_regression:g}: {worse}" if worse
                              else f"no slice regressed past {config.max_slice_regression:g}"))
    return results


def passed(results):
    return all(result.passed for result in results)
