"""fer-edge's own edge model (``edge-cnn``): a small residual CNN for 48x48 grayscale faces.

Why full 3x3 convolutions and not depthwise-separable ones: measured on this machine, a
depthwise-separable version of the same depth ran its int8 invoke *slower* (0.19 ms at 14.7 M
MACs vs 0.14 ms at 24 M MACs: XNNPACK's int8 3x3 convolutions are compute-dense, depthwise ones
memory-bound) and trained 1.7x slower per step in TensorFlow on CPU. So: narrow full convolutions
(16/32/64/128 filters at 48/24/12/6 pixels), BatchNorm after each (folded into the convolution
at conversion), a residual connection around every convolution that keeps its width, max-pool
between stages, global average pooling and one Dense layer. About 0.3 M parameters, 24 M MACs.
"""

from __future__ import annotations

import keras
from keras import layers

#: (filters, convolutions) per stage at 48, 24, 12 and 6 pixels.
DEFAULT_STAGES: tuple[tuple[int, int], ...] = ((16, 1), (32, 2), (64, 2), (128, 2))
#: ``edge-cnn-wide``: the last stage (6x6 pixels, where parameters are many and MACs few) at 160 filters.
WIDE_STAGES: tuple[tuple[int, int], ...] = ((16, 1), (32, 2), (64, 2), (160, 2))


def _conv_bn(x: keras.KerasTensor, filters: int, name: str) -> keras.KerasTensor:
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    return layers.BatchNormalization(name=f"{name}_bn")(x)


def edge_cnn(
    channels: int = 1,
    num_classes: int = 7,
    stages: tuple[tuple[int, int], ...] = DEFAULT_STAGES,
    dropout: float = 0.3,
    model_name: str = "edge_cnn",
) -> keras.Model:
    """The edge model. Input raw pixels 0-255 of shape (48, 48, channels); output 7 softmax probabilities."""
    inputs = keras.Input((48, 48, channels), name="pixels")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="to_unit_range")(inputs)
    for s, (filters, convs) in enumerate(stages):
        if s > 0:
            x = layers.MaxPooling2D(name=f"s{s + 1}_pool")(x)
        for c in range(convs):
            name = f"s{s + 1}c{c + 1}"
            y = _conv_bn(x, filters, name)
            if x.shape[-1] == filters:
                y = layers.Add(name=f"{name}_add")([x, y])
            x = layers.ReLU(name=f"{name}_relu")(y)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=model_name)  # the converter reads the architecture from this name


def edge_cnn_wide(channels: int = 1, num_classes: int = 7, dropout: float = 0.3) -> keras.Model:
    """edge-cnn with a 160-filter last stage: about 0.40 M parameters, 28 M MACs."""
    return edge_cnn(channels, num_classes, WIDE_STAGES, dropout, model_name="edge_cnn_wide")


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates of one forward pass over the conv and dense layers (batch 1).

    Elementwise work (BatchNorm folds away at conversion; ReLU, Add, pooling) is not counted.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.DepthwiseConv2D):
            _, h, w, c = layer.output.shape
            kh, kw = layer.kernel_size
            total += h * w * c * kh * kw
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            total += h * w * c_out * layer.input.shape[-1] * kh * kw
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)
