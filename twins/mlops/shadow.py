"""The torch shadow (`python -m twins.mlops.shadow`): reads JSON lines {checkpoint, X, scores} on
stdin, scores X with the torch twin of the scorer loaded from the same checkpoint, and writes one
line {rows, disagree, max_abs_diff} per batch. Separate from the server so that torch never loads
in the serving process; what it costs never touches a request's latency."""
import json
import sys

import numpy as np

from reference.projects.mlops.scorer import Scorer


def main():
    import torch
    torch.set_num_threads(1)
    loaded = {}
    for line in sys.stdin:
        batch = json.loads(line)
        if batch["checkpoint"] not in loaded:
            loaded.clear()
            loaded[batch["checkpoint"]] = Scorer.load(batch["checkpoint"])[0]
        twin = loaded[batch["checkpoint"]]
        served = np.asarray(batch["scores"])
        _, scores = twin.predict(np.asarray(batch["X"]))
        difference = np.abs(scores - served).max(axis=1)
        if twin.task == "classification":
            disagree = int(np.sum(scores.argmax(axis=1) != served.argmax(axis=1)))
        else:  # float32 scores: agree to a few units in the last place
            disagree = int(np.sum(difference > 1e-4 * (1 + np.abs(served).max(axis=1))))
        print(json.dumps({"rows": len(served), "disagree": disagree, "max_abs_diff": float(difference.max())}), flush=True)


if __name__ == "__main__":
    main()
