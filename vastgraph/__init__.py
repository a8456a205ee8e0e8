"""vastgraph: an industrial-scale graph learning system.

Layers (see DESIGN.md): graph → sampling → geometry → embed → nn → train → datasets → ads →
distributed / serve → cli. Importing the package has no side effects.
"""

__version__ = "0.1.0"
