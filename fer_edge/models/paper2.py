"""Paper 2's tuned CNN (63.25 % reported) and its row-sequence CNN-LSTM (46.82 %)."""

from __future__ import annotations

import keras
from keras import layers

from fer_edge.errors import FerEdgeError
from fer_edge.models.unrolled_lstm import lstm


def paper2_cnn(channels: int = 1, num_classes: int = 7) -> keras.Model:
    """Four Conv blocks 32/64/128/256 (Conv, BatchNorm, ReLU, MaxPool), Dense 256 and 512, dropout 0.5."""
    inputs = keras.Input((48, 48, channels), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in (32, 64, 128, 256):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    for units in (256, 512):
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="paper2_cnn")


def paper2_cnn_lstm(channels: int = 1, unroll: bool = False, num_classes: int = 7) -> keras.Model:
    """The 48 pixel rows as 48 timesteps: TimeDistributed Dense 64, LSTM 128, Dense 7."""
    if channels != 1:
        raise FerEdgeError("paper2-cnn-lstm reads the 48 pixel rows of a grayscale image: use 1 channel")
    inputs = keras.Input((48, 48, 1), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Reshape((48, 48))(x)
    x = layers.TimeDistributed(layers.Dense(64, activation="relu"))(x)
    x = lstm(128, unroll)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="paper2_cnn_lstm")
