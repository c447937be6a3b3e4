"""Locust's user for the load test (twins/mlops/loadtest.py runs it headless): POST /predict with one
row or a batch of rows, read from the JSON file named by MLOPS_LOAD_ROWS (a list of feature rows)."""
import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, task

ROWS = json.loads(Path(os.environ["MLOPS_LOAD_ROWS"]).read_text())
BATCH = int(os.environ.get("MLOPS_LOAD_BATCH", "50"))


class Client(FastHttpUser):
    wait_time = constant(0)

    @task
    def single(self):
        self.client.post("/predict", json={"instance": random.choice(ROWS)}, name="single")

    @task
    def batch(self):
        start = random.randrange(max(1, len(ROWS) - BATCH))
        self.client.post("/predict", json={"instances": ROWS[start:start + BATCH]}, name=f"batch of {BATCH}")
