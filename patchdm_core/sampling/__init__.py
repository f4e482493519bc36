"""From a trained network to pictures: seeded noise, the solvers (DDIM, DPM-Solver++), guidance, where patches
sit (positions, grid rules), the canvas denoiser with its window modes, and the Painter that runs them.

May import model/ and runtime/.
"""
