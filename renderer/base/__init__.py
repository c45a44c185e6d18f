"""Plain data every layer may import: the error family, the input and output models, limits, extras.

Nothing here imports another layer of the package.
"""
