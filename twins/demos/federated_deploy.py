"""Project 18 on Flower's deployment engine: a SuperLink and N SuperNodes as separate OS processes on
loopback, each SuperNode given its ``partition-id`` so its ClientApp loads only its own shard; the
same apps as the simulation (``twins/demos/federated_flower.py``) are submitted with ``flwr run``.

    python3 -m twins.demos.federated_deploy --clients 4 --rounds 3 --out runs/federated-deploy

Across machines (the README's Project 18 section has the commands): start ``flower-superlink --insecure
--host 0.0.0.0 --port PORT`` on one (its default host, 127.0.0.1, is reachable from that machine
only), then on each client machine ``flower-supernode --insecure --superlink HOST:PORT --node-config
"partition-id=K"``, every process with PYTHONPATH pointing at this checkout, and ``flwr run`` the app
folder this module writes (``write_app``) against a SuperLink connection naming HOST:PORT. Use TLS
(drop --insecure, pass certificates) anywhere but a trusted network.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from scratch.projects.federated import client as scratch_client
from scratch.projects.federated import data, strategy
from scratch.projects.federated.config import ClientConfig, FederatedConfig
from scratch.projects.federated.federation import run_federation
from scratch.projects.mlp.model import MLP
from twins.demos.federated_flower import make_client_app, serve
from twins.registry import ROOT

client = make_client_app()
server = ServerApp()

# what `flwr run` hands the ServerApp (the app's [tool.flwr.app.config]); the ClientApp reads its part from the messages
RUN_CONFIG = {"dataset": "digits", "quick": True, "split": "pathological", "alpha": 0.5, "num-clients": 4, "seed": 0,
              "hidden": 64, "rounds": 3, "fraction": 1.0, "min-clients": 1, "local-epochs": 1, "batch-size": 10, "lr": 0.05,
              "round-timeout": 0.0, "kill-partition": -1, "kill-round": -1, "slow-partition": -1, "slow-round": -1, "slow-seconds": 0.0,
              "out": ""}


def federation_from(run_config):
    """(spec, FederatedConfig) from a run config (RUN_CONFIG's keys)."""
    rc = {**RUN_CONFIG, **dict(run_config)}
    X, _, _, _ = data.load(rc["dataset"], rc["quick"])
    spec = {"dataset": rc["dataset"], "quick": bool(rc["quick"]), "split": rc["split"], "alpha": float(rc["alpha"]),
            "num_clients": int(rc["num-clients"]), "seed": int(rc["seed"]), "hidden_sizes": (int(rc["hidden"]),), "in_features": X.shape[1],
            "kill_partition": int(rc["kill-partition"]), "kill_round": int(rc["kill-round"]),  # fault injection: -1 for none
            "slow_partition": int(rc["slow-partition"]), "slow_round": int(rc["slow-round"]), "slow_seconds": float(rc["slow-seconds"])}
    config = FederatedConfig(int(rc["num-clients"]), int(rc["rounds"]), float(rc["fraction"]), int(rc["min-clients"]),
                             ClientConfig(int(rc["local-epochs"]), int(rc["batch-size"]), float(rc["lr"])), int(rc["seed"]))
    return spec, config


def in_process_federation(run_config):
    """The same federation as the run config's, in one process (``run_federation``): the Server."""
    spec, config = federation_from(run_config)
    X, y, X_test, y_test = data.load(spec["dataset"], spec["quick"])
    model = MLP(X.shape[1], spec["hidden_sizes"], 10, rng=np.random.default_rng(spec["seed"]))
    shards = data.client_shards(y, spec["split"], spec["num_clients"], spec["seed"], spec["alpha"])
    return run_federation(scratch_client, model, shards, X, y, strategy.FedAvg(config.fraction, config.min_clients), config,
                          test=(X_test, y_test))


@server.main()
def main(grid: Grid, context: Context) -> None:
    spec, config = federation_from(context.run_config)
    _, _, X_test, y_test = data.load(spec["dataset"], spec["quick"])
    timeout = float(context.run_config.get("round-timeout", 0.0)) or None
    out = Path(context.run_config["out"])

    def save_round(server_round, result):  # each round's global weights, for comparing runs round by round
        np.savez(out / f"global_state_round{server_round}.npz", **result.global_state)

    result = serve(grid, spec, config, strategy.FedAvg(config.fraction, config.min_clients), (X_test, y_test),
                   round_timeout=timeout, on_round=save_round)
    np.savez(out / "global_state.npz", **result.global_state)
    (out / "history.json").write_text(json.dumps(result.history))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_app(folder, run_config):
    """The Flower app folder ``flwr run`` packs: a pyproject naming the two apps and the run's config."""
    folder.mkdir(parents=True, exist_ok=True)
    values = "\n".join(f"{key} = {json.dumps(value)}" for key, value in run_config.items())
    (folder / "pyproject.toml").write_text(f"""[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "federated-twins"
version = "1.0.0"
description = "Project 18's scratch federation"
license = "MIT"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "twins"

[tool.flwr.app.components]
serverapp = "federated_app:server"
clientapp = "federated_app:client"

[tool.flwr.app.config]
{values}
""")
    (folder / "federated_app.py").write_text('"""The apps, from this checkout (on PYTHONPATH)."""\n'
                                            "from twins.demos import federated_deploy\n\n"
                                            "server = federated_deploy.server\nclient = federated_deploy.client\n")
    return folder


class Deployment:
    """A SuperLink and ``num_clients`` SuperNodes on loopback, each its own process group, stopped on exit."""

    def __init__(self, num_clients, work_dir):
        self.work_dir, self.port = Path(work_dir), free_port()
        self.env = {**os.environ, "FLWR_HOME": str(self.work_dir / "flwr-home"),
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        (self.work_dir / "flwr-home").mkdir(parents=True, exist_ok=True)
        (self.work_dir / "flwr-home" / "config.toml").write_text(
            f'[superlink]\ndefault = "loopback"\n\n[superlink.loopback]\naddress = "127.0.0.1:{self.port}"\ninsecure = true\n')
        self.superlink = self._start("superlink", ["flower-superlink", "--insecure", "--disable-runtime-dependency-installation",
                                                   "--host", "127.0.0.1", "--port", str(self.port)])
        self.supernodes = [self._start(f"supernode{k}", ["flower-supernode", "--insecure", "--superlink", f"127.0.0.1:{self.port}",
                                                         "--node-config", f"partition-id={k}", "--port", str(free_port())])
                           for k in range(num_clients)]

    def _start(self, name, argv):
        log = open(self.work_dir / f"{name}.log", "w")  # noqa: SIM115 - held open while the process runs
        return subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_for_superlink(self, timeout=60.0):
        """Block until the SuperLink accepts connections; a TimeoutError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.superlink.poll() is not None:
                raise RuntimeError(f"flower-superlink: expected it running, got exit status {self.superlink.returncode}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"flower-superlink: waited {timeout:g} s for port {self.port}")

    def run(self, app_dir, timeout):
        """``flwr run`` the app and wait for it to finish (its log streamed into flwr-run.log)."""
        self.wait_for_superlink()
        with open(self.work_dir / "flwr-run.log", "w") as log:
            return subprocess.run(["flwr", "run", str(app_dir), "loopback", "--stream"], env=self.env,
                                  stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False).returncode

    def kill(self, process):
        """Stop one process and every child it started (its own process group)."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop(self):
        for process in [*self.supernodes, self.superlink]:
            self.kill(process)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_deployment(out_dir, timeout=300.0, **overrides):
    """Run the federation on the deployment engine; returns (global_state, history); each round's global
    weights are left in ``out_dir``/global_state_round<R>.npz. ``overrides``: RUN_CONFIG's keys with underscores (num_clients=4)."""
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    run_config = {**RUN_CONFIG, **{key.replace("_", "-"): value for key, value in overrides.items()}, "out": str(out_dir)}
    with tempfile.TemporaryDirectory(prefix="federated-deploy-") as work:
        app = write_app(Path(work) / "app", run_config)
        with Deployment(run_config["num-clients"], work) as deployment:
            start = time.monotonic()
            code = deployment.run(app, timeout)
            logs = {path.name: path.read_text()[-2000:] for path in Path(work).glob("*.log")}
        if code != 0 or not (out_dir / "global_state.npz").exists():
            raise RuntimeError(f"flwr run: expected a finished run, got exit status {code}; last lines:\n{logs.get('flwr-run.log', '')}")
    with np.load(out_dir / "global_state.npz", allow_pickle=False) as saved:
        state = dict(saved)
    history = json.loads((out_dir / "history.json").read_text())
    history["wall_seconds"] = time.monotonic() - start
    return state, history


def main_cli(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="runs/federated-deploy")
    args = parser.parse_args(argv)
    _, history = run_deployment(args.out, num_clients=args.clients, rounds=args.rounds)
    print(f"{args.rounds} rounds on {args.clients} SuperNodes in {history['wall_seconds']:.1f} s: test accuracy {history['test_accuracy']}")


if __name__ == "__main__":
    main_cli()
