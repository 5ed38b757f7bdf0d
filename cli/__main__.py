"""``python -m iqm_bridge.cli``: the ``iqm-bridge`` command."""

from iqm_bridge.cli import main

main(prog_name="iqm-bridge")
