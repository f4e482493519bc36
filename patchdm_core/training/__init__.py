"""Training a Patch-DM: the data, the objective, the loop (EMA, DDP) with its saved state and progress, the
latent prior's stage, and the training throughput benchmark.

May import the facade (pipeline.py) and every layer below it; not evaluation/ or cli/.
"""
