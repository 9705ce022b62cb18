"""alukit — companion code for two papers on sparse neural networks that learn the
dynamics of an aluminium electrolysis cell.

Modules, one idea each: :mod:`alukit.cell` (the ODE), :mod:`alukit.excitation`
(controllers and input signals), :mod:`alukit.data` (trajectories, training pairs,
normalisation), :mod:`alukit.cache` (content-addressed storage).
"""
__version__ = "0.1.0"
