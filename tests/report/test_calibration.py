"""Temperature scaling, ECE and reliability bins on synthetic logits with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from fer_edge.evaluation.calibration import (
    apply_temperature,
    calibrate,
    coverage_curve,
    ece,
    fit_temperature,
    nll,
    reliability_bins,
)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sample_labels(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(len(p))[:, None]
    return (u > np.cumsum(p, axis=1)).sum(axis=1).clip(0, p.shape[1] - 1)


def overconfident(n: int, true_t: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Outputs softmax(z) whose labels are drawn from softmax(z / true_t): T = true_t calibrates them."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2.5, size=(n, 7))
    return softmax(z), sample_labels(softmax(z / true_t), rng)


def test_temperature_one_is_a_no_op_and_others_rescale_the_logits():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 1, size=(50, 7))  # no probability below the log floor (1e-4)
    p = softmax(z).astype(np.float32)
    assert p.min() > 1e-4
    assert apply_temperature(p, 1.0) is p
    for t in (0.5, 2.0):
        out = apply_temperature(p, t)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, softmax(z / t), atol=1e-5)
        np.testing.assert_array_equal(out.argmax(1), p.argmax(1))  # accuracy never changes
    with pytest.raises(ValueError):
        apply_temperature(p, 0.0)


def test_zero_probabilities_of_an_int8_output_stay_finite():
    p = np.array([[0.0, 0.0, 1.0, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0, 0, 0]])
    out = apply_temperature(p, 2.0)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out.sum(1), 1.0)
    assert np.isfinite(nll(p, np.array([0, 2]), 2.0))


@pytest.mark.parametrize("true_t", [0.6, 1.0, 2.5])
def test_fit_recovers_the_temperature_that_generated_the_labels(true_t):
    p, y = overconfident(20000, true_t)
    t = fit_temperature(p, y)
    assert t == pytest.approx(true_t, rel=0.08)
    assert nll(p, y, t) <= nll(p, y, 1.0) + 1e-9


def test_ece_of_hand_built_bins():
    # 10 faces at confidence 0.9 of which 6 right: |0.6 - 0.9| = 0.3; 10 at 0.55 of which 5 right: 0.05
    conf = np.array([0.9] * 10 + [0.55] * 10)
    probs = np.zeros((20, 7))
    probs[:, 0] = conf
    probs[:, 1] = 1 - conf
    labels = np.array([0] * 6 + [1] * 4 + [0] * 5 + [1] * 5)
    bins = reliability_bins(probs, labels, 15)
    assert bins.counts.sum() == 20
    assert (bins.counts > 0).sum() == 2
    assert ece(probs, labels) == pytest.approx((10 * 0.3 + 10 * 0.05) / 20)
    used = bins.counts > 0
    np.testing.assert_allclose(bins.accuracy[used], [0.5, 0.6])
    np.testing.assert_allclose(bins.confidence[used], [0.55, 0.9])
    assert np.isnan(bins.accuracy[~used]).all()


def test_ece_is_zero_when_every_bin_is_right_and_a_confidence_of_one_counts():
    probs = np.zeros((10, 7))
    probs[:, 3] = 1.0
    assert ece(probs, np.full(10, 3)) == 0.0
    assert reliability_bins(probs, np.full(10, 3)).counts[-1] == 10
    assert ece(probs, np.zeros(10, int)) == pytest.approx(1.0)


def test_calibrating_on_one_set_lowers_ece_on_another():
    fit_p, fit_y = overconfident(8000, 2.0, seed=1)
    p, y = overconfident(8000, 2.0, seed=2)
    cal = calibrate(fit_p, fit_y, p, y, "fit", "test")
    assert cal.temperature == pytest.approx(2.0, rel=0.1)
    assert cal.after.ece < cal.before.ece / 2
    assert cal.nll_after < cal.nll_before
    entry = cal.card_entry()
    assert entry["bins"] == 15 and entry["before"] > entry["after"]


def test_coverage_curve_keeps_fewer_faces_and_more_of_them_right():
    p, y = overconfident(5000, 1.0, seed=3)
    c = coverage_curve(p, y, np.array([0.0, 0.5, 0.9, 1.01]))
    assert c["coverage"][0] == 1.0
    assert c["accuracy"][0] == pytest.approx((p.argmax(1) == y).mean())
    assert list(c["coverage"]) == sorted(c["coverage"], reverse=True)
    assert c["accuracy"][2] > c["accuracy"][0]
    assert c["coverage"][3] == 0.0 and np.isnan(c["accuracy"][3])


def test_ece_interval_brackets_the_estimate_and_narrows_with_more_images():
    from fer_edge.evaluation.calibration import ece_interval

    p, y = overconfident(4000, 2.0, seed=4)
    lo, hi = ece_interval(p, y, resamples=300)
    assert lo < ece(p, y) + 0.01 and hi > ece(p, y) and lo < hi
    lo_small, hi_small = ece_interval(p[:400], y[:400], resamples=300)
    assert hi_small - lo_small > hi - lo
    assert all(np.isnan(v) for v in ece_interval(p, y, resamples=0))
