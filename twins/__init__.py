"""The app: the `twins` command line, the demos, the plots, the one registry of projects, and
the public parity harness (``twins.parity``). It imports everything; nothing imports it."""
