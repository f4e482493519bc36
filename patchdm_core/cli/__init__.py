"""`python -m patchdm_core <command>`: one module per family of commands; main.py builds the parser and
dispatches, common.py holds what the commands share.

The top layer: may import every other part of the package.
"""
