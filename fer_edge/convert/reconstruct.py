"""A Keras model rebuilt from a full-int8 ``.tflite`` of fer-edge's edge CNN, for when the ``.keras`` is lost.

The int8 file holds every weight the model needs: per-channel int8 convolution kernels with BatchNorm
folded in, int32 biases, and the Dense layer. Dequantized (``(q - zero_point) * scale``), they are
put back into ``edge_cnn`` of the same stages, with each BatchNorm set to the identity plus the
folded bias (gamma 1, mean 0, variance 1 - epsilon, beta = bias). The rebuilt float model computes
what the int8 file approximates; converting it again re-measures the activation ranges.
TensorFlow is needed (this is the convert layer); its interpreter reads the weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_edge.errors import FerEdgeError


def _dequantize(detail: dict, values: np.ndarray) -> np.ndarray:
    q = detail["quantization_parameters"]
    scales = np.asarray(q["scales"], np.float64)
    zeros = np.asarray(q["zero_points"], np.float64)
    if scales.size == 0:
        return values.astype(np.float64)
    axis = int(q.get("quantized_dimension", 0))
    shape = [1] * values.ndim
    if scales.size > 1:
        shape[axis] = scales.size
    return (values.astype(np.float64) - zeros.reshape(shape if zeros.size > 1 else [1] * values.ndim)) * scales.reshape(
        shape
    )


def int8_weights(path: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], tuple[np.ndarray, np.ndarray]]:
    """[(kernel HWIO, bias)] per CONV_2D in graph order, and the Dense (kernel in x out, bias), all float."""
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_path=str(path))
    interp.allocate_tensors()
    details = {d["index"]: d for d in interp.get_tensor_details()}
    convs, dense = [], None
    for op in interp._get_ops_details():  # noqa: SLF001 - the only way to walk the graph's ops
        name = op["op_name"]
        if name not in ("CONV_2D", "FULLY_CONNECTED"):
            continue
        _, w_idx, b_idx = (int(i) for i in op["inputs"][:3])
        w = _dequantize(details[w_idx], interp.get_tensor(w_idx))
        b = _dequantize(details[b_idx], interp.get_tensor(b_idx))
        if name == "CONV_2D":
            convs.append((np.transpose(w, (1, 2, 3, 0)).astype(np.float32), b.astype(np.float32)))  # OHWI -> HWIO
        else:
            dense = (w.T.astype(np.float32), b.astype(np.float32))
    if dense is None or not convs:
        raise FerEdgeError(f"{path}: no convolutions and Dense layer found; not an edge-cnn int8 file")
    return convs, dense


def rebuild_edge_model(path: Path, architecture: str = "edge-cnn-wide"):
    """The Keras ``architecture`` (edge-cnn or edge-cnn-wide) with the weights of the int8 file ``path``."""
    from fer_edge.models.registry import build_model

    convs, (dense_w, dense_b) = int8_weights(Path(path))
    model = build_model(architecture, 1)
    conv_layers = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    if len(conv_layers) != len(convs):
        raise FerEdgeError(f"{path}: {len(convs)} convolutions, but {architecture} has {len(conv_layers)}")
    for layer, (kernel, bias) in zip(conv_layers, convs):
        if tuple(layer.kernel.shape) != kernel.shape:
            raise FerEdgeError(f"{path}: kernel {kernel.shape} does not fit {layer.name} {tuple(layer.kernel.shape)}")
        layer.set_weights([kernel])
        bn = model.get_layer(layer.name.replace("_conv", "_bn"))
        eps = bn.epsilon
        n = kernel.shape[-1]
        bn.set_weights([np.ones(n, np.float32), bias, np.zeros(n, np.float32), np.full(n, 1.0 - eps, np.float32)])
    model.get_layer("probabilities").set_weights([dense_w, dense_b])
    return model
