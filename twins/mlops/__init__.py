"""Project 20's app layer: MLflow tracking and registry (tracking.py, pyfunc_model.py), the
NumPy-only FastAPI model server (server.py) and its torch shadow process (shadow.py), the
pipeline's stages (pipeline.py) and their command line (`twins mlops <stage>`, `twins serve`)."""
