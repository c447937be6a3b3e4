"""Project 20's data stage (never twinned): dslabs' gapminder read as NumPy columns, validated
against a schema (names, kinds, ranges) with every failing row quarantined and reported, never
dropped silently; the model's feature matrix; the content hash that versions a training set."""
import hashlib

import numpy as np

from scratch.datasets import DSLABS_DIRS, read_r_lazyload
from scratch.projects.mlops.config import CONTINENTS, GAPMINDER_FEATURES, GAPMINDER_SCHEMA


def load_gapminder(directory=None):
    """gapminder as a dict of columns (NumPy arrays): category columns as str, NA as NaN."""
    directories = [directory] if directory is not None else [d for d in DSLABS_DIRS if (d / "Rdata.rdx").exists()]
    if not directories:
        raise FileNotFoundError(f"directory: no dslabs data in {[str(d) for d in DSLABS_DIRS]}; "
                                "run `bash scripts/install_data.sh` (it unpacks r-cran-dslabs into .data/)")
    frame = read_r_lazyload(directories[0], "gapminder")
    columns = {}
    for name in frame.columns:
        column = frame[name]
        if str(column.dtype) == "category":
            columns[name] = np.asarray(column.astype(str).to_numpy(), dtype=str)
        else:
            columns[name] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    return columns


def validate(table, schema=GAPMINDER_SCHEMA):
    """(mask of valid rows, quarantine): every column the schema names must exist; a row whose
    value is missing or out of range is quarantined with each reason, as {row: [reasons]}."""
    missing = [name for name in schema if name not in table]
    if missing:
        raise ValueError(f"table: expected the columns {list(schema)}, got {sorted(table)} (missing {missing})")
    lengths = {name: len(table[name]) for name in schema}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"table: expected columns of one length, got {lengths}")
    num_rows = next(iter(lengths.values()))
    reasons = {}
    for name, (kind, bounds) in schema.items():
        values = table[name]
        if kind == "category":
            if values.dtype.kind != "U":
                raise TypeError(f"{name}: expected a str column, got dtype {values.dtype}")
            bad = (values == "") | (values == "nan")
            why = "missing"
        else:
            if not np.issubdtype(values.dtype, np.number):
                raise TypeError(f"{name}: expected a numeric column, got dtype {values.dtype}")
            values = values.astype(np.float64)
            with np.errstate(invalid="ignore"):
                bad = ~np.isfinite(values) | (values < bounds[0]) | (values > bounds[1])
                if kind == "int":
                    bad |= np.isfinite(values) & (values != np.round(values))
            why = f"missing or outside [{bounds[0]:g}, {bounds[1]:g}]"
        for row in np.flatnonzero(bad):
            reasons.setdefault(int(row), []).append(f"{name}: {why}, got {values[row]!r}")
    valid = np.ones(num_rows, dtype=bool)
    valid[list(reasons)] = False
    return valid, reasons


def features(table):
    """(X (rows, 9) float64, y life expectancy (rows,)) in GAPMINDER_FEATURES order: the two rates,
    log10 GDP per head and log10 population, and the continent one-hot."""
    per_capita = table["gdp"] / table["population"]
    onehot = (table["continent"][:, None] == np.array(CONTINENTS)[None, :]).astype(np.float64)  # (rows, 5)
    X = np.column_stack([table["infant_mortality"], table["fertility"], np.log10(per_capita), np.log10(table["population"]), onehot])
    assert X.shape[1] == len(GAPMINDER_FEATURES)
    return X, table["life_expectancy"].astype(np.float64)


def select(table, mask):
    return {name: values[mask] for name, values in table.items()}


def years(table, first, last):
    """The rows from year ``first`` to ``last``, both included."""
    return select(table, (table["year"] >= first) & (table["year"] <= last))


def content_hash(*arrays):
    """sha256 over each array's dtype, shape and bytes: the version of a training set."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
