"""The machine and the pictures: precision, threads, memory and devices; picture files, folders and filters;
canvas sizes; the input checks the command line and the app share; where the shipped weights are.

The bottom layer: imports nothing of patchdm_core outside runtime/.
"""
