"""The MLflow pyfunc of a scratch scorer, logged as "models from code": MLflow records this file,
not a pickle, and loading it needs NumPy and scratch only (the checkpoint is an .npz read with
allow_pickle=False). ``predict`` takes a (rows, features) array in the signature's order and
returns the predicted class or value per row."""
import numpy as np
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

from scratch.projects.mlops.scorer import Scorer


class ScorerModel(PythonModel):
    def load_context(self, context):
        self.scorer, self.meta = Scorer.load(context.artifacts["checkpoint"])

    def predict(self, context, model_input, params=None):
        X = model_input.to_numpy() if hasattr(model_input, "to_numpy") else np.asarray(model_input)
        return self.scorer.predict(X)[0]


set_model(ScorerModel())
