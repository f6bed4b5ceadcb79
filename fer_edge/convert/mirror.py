"""Mirror averaging inside the model: one graph that classifies a face and its horizontal mirror and
outputs the mean of the two probability vectors (test-time augmentation, paid once per face in the
graph rather than twice by the caller).

Two forms of the same function, for ``fer-edge convert --mirror-average FORM``:

- ``batch2``: face and mirror concatenated along the batch axis, one pass of the model over 2N
  images, then the two halves averaged (a RESHAPE and a MEAN);
- ``branches``: the model applied twice to the face and to its mirror (shared weights), averaged.

Flipping the width axis is a REVERSE_V2 op, which TFLite runs in int8.
"""

from __future__ import annotations

MIRROR_FORMS = ("batch2", "branches")


def mirror_average(model, form: str = "batch2"):
    """A Keras model with ``model``'s input and output whose output is mean(model(x), model(mirror(x)))."""
    import keras
    from keras import layers, ops

    if form not in MIRROR_FORMS:
        raise ValueError(f"mirror form {form!r}: choose {', '.join(MIRROR_FORMS)}")
    inputs = keras.Input(model.input_shape[1:], name="pixels")
    mirrored = ops.flip(inputs, axis=2)
    n_out = model.output_shape[-1]
    if form == "batch2":
        both = ops.concatenate([inputs, mirrored], axis=0)
        probs = model(both)
        halves = ops.reshape(probs, (2, -1, n_out))
        outputs = ops.mean(halves, axis=0)
    else:
        outputs = layers.Average(name="mirror_mean")([model(inputs), model(mirrored)])
    name = model.name  # the converter recognises the architecture by the model's name
    return keras.Model(inputs, outputs, name=name)


def write_mirrored(model_path, form: str, out_dir=None, force: bool = False):
    """``<stem>_mirror-<form>.keras`` (with its card) in ``out_dir`` (default: beside the model): the
    mirror-averaged model that ``fer-edge convert --mirror-average`` then converts."""
    from pathlib import Path

    import keras

    from fer_edge.atomic import atomic_path, check_destination
    from fer_edge.convert.keras_file import inspect_keras
    from fer_edge.model_card import ModelCard

    info = inspect_keras(Path(model_path))
    if form not in MIRROR_FORMS:
        from fer_edge.errors import FerEdgeError

        raise FerEdgeError(f"--mirror-average {form!r}: choose {', '.join(MIRROR_FORMS)}")
    out = Path(out_dir) if out_dir is not None else info.path.parent
    dst = out / f"{info.path.stem}_mirror-{form}.keras"
    check_destination(ModelCard.path_for(dst), force)
    model = keras.models.load_model(info.path, compile=False)
    wrapped = mirror_average(model, form)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(dst, force=force) as tmp:
        keras_tmp = tmp.with_suffix(".keras")
        wrapped.save(keras_tmp)
        keras_tmp.replace(tmp)
    card = info.card or ModelCard(architecture=info.architecture_hint, input_shape=list(info.input_shape))
    card.notes = {
        **card.notes,
        "mirror_average": f"output = mean(model(face), model(horizontal mirror)), form {form}, built from "
        f"{info.path.name} (sha256 {info.sha256[:12]})",
    }
    card.temperature, card.ece = 1.0, {}  # a new function: any earlier calibration no longer applies
    card.save(dst)
    return dst
