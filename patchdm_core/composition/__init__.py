"""Where a canvas's composition comes from: layout sources (the training pictures' layouts, the layout model,
designed layouts drawn from a seed, a picture of the user's) and the hook that brings a layout into a canvas.

May import editing/, sampling/, model/ and runtime/.
"""
