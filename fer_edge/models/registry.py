"""Every architecture by name, with the facts a model card and the converter need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from fer_edge.errors import FerEdgeError
from fer_edge.models import edge, paper1, paper2


@dataclass(frozen=True)
class Architecture:
    name: str
    builder: Callable[..., keras.Model]
    default_channels: int
    recurrent: bool  # holds an LSTM: converted unrolled
    description: str

    def build(self, channels: int | None = None, unroll: bool = False, **kwargs: object) -> keras.Model:
        ch = channels or self.default_channels
        if self.recurrent:
            return self.builder(channels=ch, unroll=unroll, **kwargs)
        return self.builder(channels=ch, **kwargs)


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("paper1-cnn", paper1.paper1_cnn, 3, False, "Paper 1 CNN: Conv 16/32/64, Dense 128"),
        Architecture("paper1-cnn-lstm", paper1.paper1_cnn_lstm, 1, True, "Paper 1 CNN-LSTM: Conv 32/64/128, LSTM 128"),
        Architecture("paper2-cnn", paper2.paper2_cnn, 1, False, "Paper 2 tuned CNN: 4 Conv blocks, Dense 256/512"),
        Architecture("paper2-cnn-lstm", paper2.paper2_cnn_lstm, 1, True, "Paper 2 row-sequence LSTM 128"),
        Architecture("edge-cnn", edge.edge_cnn, 1, False, "fer-edge's edge model: residual Conv 16/32/64/128, GAP"),
        Architecture(
            "edge-cnn-wide",
            edge.edge_cnn_wide,
            1,
            False,
            "edge-cnn with a wider last stage: residual Conv 16/32/64/160",
        ),
    )
}


def get_architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise FerEdgeError(
            f"unknown architecture {name!r}; `fer-edge models` lists: {', '.join(ARCHITECTURES)}"
        ) from None


def build_model(name: str, channels: int | None = None, unroll: bool = False, **kwargs: object) -> keras.Model:
    return get_architecture(name).build(channels, unroll=unroll, **kwargs)
