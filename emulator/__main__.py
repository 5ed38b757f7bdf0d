"""``python -m iqm_bridge.emulator serve ...``."""

from iqm_bridge.emulator.cli import main

main()
