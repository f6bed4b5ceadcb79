import numpy as np
import pytest

from fer_edge.metrics import classification_metrics


def test_metrics_by_hand():
    y = np.array([0, 0, 1, 3, 3, 3])
    probs = np.eye(7)[[0, 1, 1, 3, 3, 0]]
    m = classification_metrics(y, probs)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["per_class_recall"]["angry"] == pytest.approx(0.5)
    assert m["per_class_recall"]["happy"] == pytest.approx(2 / 3)
    assert m["per_class_recall"]["fear"] is None and m["roc_auc"]["fear"] is None
    assert m["confusion_matrix"][0][:2] == [1, 1]
    # macro over the classes present (angry, disgust, happy): precision 1/2, 1/2, 1
    assert m["macro_precision"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
