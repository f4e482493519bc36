"""The tools that change a picture, as functions of a Painter: inpaint, outpaint and re-roll (masks, fills, the
known-region projection, harmonizing), img2img and upscale.

May import sampling/, model/ and runtime/.
"""
