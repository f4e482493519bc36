"""Measuring pictures and speed: metrics that need no pretrained network, the `eval` table, and the
sampler-step benchmark with its plots.

May import the facade (pipeline.py) and every layer below it; not training/ or cli/.
"""
