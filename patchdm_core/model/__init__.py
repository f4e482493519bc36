"""The networks and what defines them: configs and presets, building blocks, the patch UNet with its feature
collage, the global encoders, the latent prior's MLP, the noise schedule, and weights files.

May import runtime/.
"""
