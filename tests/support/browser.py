"""Debian's Chromium, as every browser test here starts it (root: no sandbox; no network
beyond this machine, so none of its background requests)."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
