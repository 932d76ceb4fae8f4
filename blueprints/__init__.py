"""One package per working area; each has a blueprint `bp`."""
