"""The CLV maths on plain frames: parameter recovery, predictions' limits, tiers, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime

from etl.segment import clv
from tests.segment.clv_data import simulate_bgnbd, summary_of

SETTINGS = {
    "annual_discount_rate": 0.1,
    "margin": 1.0,
    "churn_p_alive": 0.3,
    "high_share": 0.2,
    "low_share": 0.5,
}
MINIMUM = {"customers": 100, "repeat_customers": 20}


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return summary_of(simulate_bgnbd(20000, r=0.5, alpha=20.0, a=0.8, b=3.0, span=365, seed=3))


def test_fit_recovers_the_parameters_that_generated_the_data(simulated):
    model = clv.fit_bgnbd(simulated)
    # day-level rounding of purchase times and sampling noise: within 15 percent
    for name, truth in {"r": 0.5, "alpha": 20.0, "a": 0.8, "b": 3.0}.items():
        assert getattr(model, name) == pytest.approx(truth, rel=0.15), name


def test_weighted_fit_equals_the_per_customer_likelihood(simulated):
    model = clv.fit_bgnbd(simulated)
    params = np.array([model.r, model.alpha, model.a, model.b])
    ll = clv.bgnbd_log_likelihood(
        params, *(simulated[c].to_numpy("float64") for c in ("x", "t_x", "T"))
    ).sum()
    assert ll == pytest.approx(model.log_likelihood, rel=1e-9)


def test_predictions_have_their_limits():
    bg = clv.BgNbd(0.243, 4.414, 0.793, 2.426, 0.0, 0, True, "")
    x = np.array([0.0, 2.0, 2.0, 10.0])
    t_x = np.array([0.0, 30.0, 5.0, 38.0])
    T = np.array([0.0, 38.0, 38.0, 38.0])
    alive = clv.p_alive(bg, x, t_x, T)
    assert alive[0] == 1.0  # first seen on the as-of date, no repeat: alive by definition
    assert alive[1] > alive[2]  # a recent last purchase means more likely still active
    assert np.all((alive > 0) & (alive <= 1))
    assert np.allclose(clv.expected_purchases(bg, 0.0, x, t_x, T), 0.0)
    e10, e20 = (
        clv.expected_purchases(bg, 10.0, x, t_x, T),
        clv.expected_purchases(bg, 20.0, x, t_x, T),
    )
    assert np.all(e20 > e10)
    assert e10[3] > e10[1] > e10[2]
    # a newly acquired customer's expectation equals the unconditional one (eq. 9)
    assert clv.expected_purchases(bg, 39.0, x[:1], t_x[:1], T[:1])[0] == pytest.approx(
        clv.expected_purchases_new(bg, 39.0)
    )


def test_expected_spend_shrinks_towards_the_population_mean():
    gg = clv.GammaGamma(6.25, 3.74, 15.44, 0.0, 946, 0, True, "")
    low, high = clv.expected_spend(gg, np.array([1.0, 1.0]), np.array([5.0, 100.0]))
    assert 5.0 < low < gg.population_mean < high < 100.0
    many = clv.expected_spend(gg, np.array([50.0]), np.array([100.0]))[0]
    assert high < many < 100.0  # more purchases: the customer's own mean counts more


def test_value_tiers_split_by_shares_and_churn():
    preds = pd.DataFrame(
        {
            "customer_id": [str(i) for i in range(10)],
            "p_alive": [0.1, 0.2] + [0.9] * 8,
            "predicted_clv_12m": [500.0, 400.0, 80, 70, 60, 50, 40, 30, 20, 10],
        }
    )
    out = clv.value_tiers(preds, SETTINGS)
    assert list(out["segment"]) == [clv.CHURNED] * 2 + [clv.HIGH] + [clv.MEDIUM] * 3 + [clv.LOW] * 4
    assert set(out["segment_id"]) == {1, 2, 3, 4}


def test_too_little_history_is_refused_with_the_reason():
    tiny = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "x": [0, 1],
            "t_x": [0.0, 3.0],
            "T": [5.0, 6.0],
            "monetary": [0.0, 10.0],
        }
    )
    with pytest.raises(clv.ClvFitError, match="too little history: 2 customers"):
        clv.fit(tiny, "week", MINIMUM)
    no_repeat = pd.DataFrame(
        {
            "customer_id": [str(i) for i in range(200)],
            "x": 0,
            "t_x": 0.0,
            "T": 10.0,
            "monetary": 0.0,
        }
    )
    with pytest.raises(clv.ClvFitError, match="0 customers bought more than once"):
        clv.fit(no_repeat, "week", MINIMUM)


def test_a_degenerate_history_is_not_fitted():
    # every repeat buyer bought again right at the end, nobody ever drops out: the churn
    # parameters run off to the bounds, which must be refused rather than reported
    n = 300
    frame = pd.DataFrame(
        {"customer_id": [str(i) for i in range(n)], "x": 3, "t_x": 10.0, "T": 10.0, "monetary": 5.0}
    )
    with pytest.raises(clv.ClvFitError):
        clv.fit(frame, "week", MINIMUM)


def test_clv_is_discounted_and_scaled_by_margin(simulated):
    model = clv.fit(simulated, "day", MINIMUM)
    base = clv.predict(model, simulated, SETTINGS)
    half = clv.predict(model, simulated, {**SETTINGS, "margin": 0.5})
    assert np.allclose(half["predicted_clv_12m"], base["predicted_clv_12m"] * 0.5)
    no_discount = clv.predict(model, simulated, {**SETTINGS, "annual_discount_rate": 0.0})
    assert (no_discount["predicted_clv_12m"] >= base["predicted_clv_12m"] - 1e-9).all()
    assert np.isfinite(base.drop(columns="customer_id").to_numpy()).all()
    # undiscounted, 12 months of value = expected purchases in a year x expected spend
    x, t_x, T = (simulated[c].to_numpy("float64") for c in ("x", "t_x", "T"))
    year = clv.expected_purchases(model.bgnbd, 365.25, x, t_x, T)
    assert np.allclose(no_discount["predicted_clv_12m"], year * no_discount["expected_spend"])


@pytest.mark.parametrize(
    "theta", [np.zeros(4), np.array([-0.7, 2.5, -0.3, 1.1]), np.array([1.0, -1.0, 2.0, -2.0])]
)
def test_bgnbd_gradient_matches_finite_differences(simulated, theta):
    (x, t_x, T), w = clv._compress(simulated, ["x", "t_x", "T"])
    objective, total = clv._bgnbd_objective(x, t_x, T, w)
    value, grad = objective(theta)
    assert value == pytest.approx(-(clv.bgnbd_log_likelihood(np.exp(theta), x, t_x, T) @ w) / total)
    numeric = approx_fprime(theta, lambda t: objective(t)[0], 1e-7)
    assert np.allclose(grad, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("theta", [np.zeros(3), np.array([1.8, 1.3, 2.7])])
def test_gamma_gamma_gradient_matches_finite_differences(simulated, theta):
    buyers = simulated[simulated["x"] > 0]
    (x, m), w = clv._compress(buyers, ["x", "monetary"])
    objective, total = clv._gamma_gamma_objective(x, m, w)
    value, grad = objective(theta)
    ll = clv.gamma_gamma_log_likelihood(np.exp(theta), x, m) @ w
    assert value == pytest.approx(-ll / total)
    numeric = approx_fprime(theta, lambda t: objective(t)[0], 1e-7)
    assert np.allclose(grad, numeric, rtol=1e-5, atol=1e-6)
