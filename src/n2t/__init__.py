"""n2t — From Neurons to Transformers.

Two implementations of each idea: :mod:`n2t.numpy` (from scratch, hand-written backward passes,
NumPy only) and :mod:`n2t.torch` (PyTorch modules built from primitives; needs the ``torch`` extra).
"""

__version__ = "0.1.0"
