"""Training (Keras): the paper's protocol in ``fit``, one run in ``run``, the factorial in ``factorial``.

TensorFlow is imported by the submodules that need it, never by this package's ``__init__``.
"""
