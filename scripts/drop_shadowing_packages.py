"""Remove top-level packages that other distributions install under this project's import names.

The opacus wheels (1.5 and 1.6 at least) ship a top-level ``benchmarks`` package of their own. In
site-packages it shadows this project's ``benchmarks``: an editable install is searched after the
site-packages folder, so ``import twins`` (which imports ``benchmarks``) fails anywhere but the
repository root. Run this after ``pip install -e ...``; it removes only folders that another
distribution's RECORD lists as a package named like ours, and says what it removed.
"""
import importlib.metadata
import shutil

OUR_PACKAGES = ("scratch", "reference", "benchmarks", "twins")


def shadowing_folders():
    """(distribution, version, folder) for every package of another distribution named like one of ours."""
    for dist in importlib.metadata.distributions():
        if dist.metadata["Name"] == "ml-twins":
            continue
        for file in dist.files or ():
            if len(file.parts) == 2 and file.parts[0] in OUR_PACKAGES and file.parts[1] == "__init__.py":
                yield dist.metadata["Name"], dist.version, file.locate().parent


if __name__ == "__main__":
    for name, version, folder in shadowing_folders():
        if folder.is_dir():
            shutil.rmtree(folder)
            print(f"removed {folder}: {name} {version} installs it under this project's import name {folder.name!r}")
