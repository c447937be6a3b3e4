"""Debian's headless Chromium, driven directly (no driver package): a page's screenshot and its DOM
after scripts ran. Used by the dashboard test; `apt-get install chromium-headless-shell`
(scripts/install_data.sh) provides it."""
import shutil
import subprocess

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars")


def find_browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError(f"browser: expected one of {list(BROWSERS)} on PATH, got none; "
                            "run `bash scripts/install_data.sh` (it installs Debian's chromium-headless-shell)")


def screenshot(url, path, size=(1000, 800), timeout=60):
    """Load ``url`` and save a PNG of the window at ``path``."""
    subprocess.run([find_browser(), *FLAGS, f"--window-size={size[0]},{size[1]}", f"--screenshot={path}", url], capture_output=True,
                   timeout=timeout, check=True)
    return path


def dom(url, timeout=60):
    """The DOM of ``url`` serialised after its scripts ran."""
    return subprocess.run([find_browser(), *FLAGS, "--dump-dom", url], capture_output=True, text=True, timeout=timeout, check=True).stdout
