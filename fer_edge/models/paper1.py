"""Paper 1's two architectures, layer for layer from its tables (319,527 and 232,967 parameters)."""

from __future__ import annotations

import keras
from keras import layers

from fer_edge.models.unrolled_lstm import lstm


def paper1_cnn(channels: int = 3, dropout: float = 0.5, num_classes: int = 7) -> keras.Model:
    """Rescaling, Conv 16/32/64 (same) each + MaxPool, Flatten 2,304, Dense 128, Dropout, Dense 7.

    3-channel input as Keras' directory loader gives by default: 319,527 parameters (319,239 for 1).
    """
    inputs = keras.Input((48, 48, channels), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in (16, 32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="paper1_cnn")


def paper1_cnn_lstm(channels: int = 1, unroll: bool = False, num_classes: int = 7) -> keras.Model:
    """Conv 32/64/128 (valid) each + MaxPool, Flatten 2,048, Reshape (16, 128), LSTM 128, Dense 64, Dense 7.

    ``unroll=True`` gives the same weights as straight-line ops (no WHILE loop), which is what
    full-int8 TFLite conversion needs.
    """
    inputs = keras.Input((48, 48, channels), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="valid", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Reshape((16, 128))(x)
    x = lstm(128, unroll)(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="paper1_cnn_lstm")
