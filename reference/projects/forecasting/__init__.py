"""Project 5: recurrent networks for time-series forecasting."""
