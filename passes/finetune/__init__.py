"""Quantization-aware fine-tuning with knowledge distillation over the IR, in numpy.

ops.py: forward/backward per IR op (one table); fakequant.py: weights, biases and activations
quantized as the compiler will (straight-through gradients); net.py: the graph as a trainable
network; distill.py: the losses; train.py: the loop (Adam, early stopping, seed)."""
from .train import FinetuneOptions, finetune  # noqa: F401

__all__ = ["FinetuneOptions", "finetune"]
