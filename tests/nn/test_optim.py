"""SGD and Adam: update rules, in-place updates, freezing and state round trips."""

import numpy as np
import pytest

from convlab import nn


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    return [nn.Parameter(rng.standard_normal((4, 2, 3, 3))),
            nn.Parameter(rng.standard_normal(4))]


def set_grads(params, rng):
    for p in params:
        p.grad[...] = rng.standard_normal(p.grad.shape)


OPTIMIZERS = {
    "sgd": lambda params: nn.SGD(params, lr=0.1),
    "sgd-momentum-wd": lambda params: nn.SGD(params, lr=0.1, momentum=0.9,
                                             weight_decay=0.01),
    "adam": lambda params: nn.Adam(params, lr=0.01),
    "adam-wd": lambda params: nn.Adam(params, lr=0.01, betas=(0.8, 0.99),
                                      weight_decay=0.1),
}


def test_plain_sgd_step():
    """Without momentum, SGD subtracts lr * (grad + weight_decay * p)."""
    (p,) = make_params()[:1]
    start = p.data.copy()
    p.grad[...] = 1.0
    nn.SGD([p], lr=0.5, weight_decay=0.1).step()
    np.testing.assert_allclose(p.data, start - 0.5 * (1.0 + 0.1 * start))


def test_sgd_momentum_accumulates():
    """With momentum the second step moves by lr * (momentum * g1 + g2)."""
    p = nn.Parameter(np.zeros(3))
    opt = nn.SGD([p], lr=1.0, momentum=0.5)
    p.grad[...] = [1.0, 2.0, 3.0]
    opt.step()
    np.testing.assert_allclose(p.data, [-1.0, -2.0, -3.0])
    opt.step()
    np.testing.assert_allclose(p.data, [-2.5, -5.0, -7.5])


def test_first_adam_step_moves_by_lr():
    """Adam's bias correction makes the first step lr * sign(grad) (up to eps)."""
    p = nn.Parameter(np.zeros(3))
    p.grad[...] = [0.001, -5.0, 2.0]
    nn.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [-0.1, 0.1, -0.1], rtol=1e-4)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_updates_are_in_place(name):
    """step() writes into the existing arrays, so outside references stay current."""
    params = make_params()
    views = [p.data for p in params]
    before = [v.copy() for v in views]
    opt = OPTIMIZERS[name](params)
    set_grads(params, np.random.default_rng(1))
    opt.step()
    for p, view, old in zip(params, views, before, strict=True):
        assert p.data is view
        assert not np.array_equal(view, old)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_freeze_mask_keeps_entries_exactly(name):
    """Frozen filters stay bit-for-bit unchanged over steps, with momentum and decay."""
    params = make_params()
    frozen = np.array([True, False, True, False])
    params[0].freeze_mask = frozen[:, None, None, None]
    params[1].freeze_mask = frozen
    before = [p.data.copy() for p in params]
    opt = OPTIMIZERS[name](params)
    rng = np.random.default_rng(2)
    for _ in range(5):
        set_grads(params, rng)
        opt.step()
    for p, old in zip(params, before, strict=True):
        np.testing.assert_array_equal(p.data[frozen], old[frozen])
        assert (p.data[~frozen] != old[~frozen]).all()


@pytest.mark.parametrize("name", ["sgd-momentum-wd", "adam"])
def test_unfreezing_does_not_release_stored_momentum(name):
    """Gradients seen while frozen do not build momentum that moves the weight later."""
    frozen_then_free = nn.Parameter(np.ones(2))
    never_frozen = nn.Parameter(np.ones(2))
    frozen_then_free.freeze_mask = np.array([True, True])
    opt_a = OPTIMIZERS[name]([frozen_then_free])
    for _ in range(3):
        frozen_then_free.grad[...] = 1.0
        opt_a.step()
    frozen_then_free.freeze_mask = None
    frozen_then_free.grad[...] = 0.0
    opt_a.step()
    opt_b = OPTIMIZERS[name]([never_frozen])
    opt_b.step()  # zero gradient: only weight decay could move it
    np.testing.assert_array_equal(frozen_then_free.data, never_frozen.data)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_resume_continues_identically(name):
    """An optimizer restored from state_dict() takes exactly the same next steps."""
    rng = np.random.default_rng(3)
    params = make_params()
    opt = OPTIMIZERS[name](params)
    for _ in range(3):
        set_grads(params, rng)
        opt.step()
    state = opt.state_dict()
    copies = [nn.Parameter(p.data.copy()) for p in params]
    resumed = OPTIMIZERS[name](copies)
    resumed.load_state_dict(state)
    assert resumed.step_count == opt.step_count == 3
    for _ in range(2):
        grads = [rng.standard_normal(p.shape) for p in params]
        for a, b, g in zip(params, copies, grads, strict=True):
            a.grad[...] = g
            b.grad[...] = g
        opt.step()
        resumed.step()
    for a, b in zip(params, copies, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_is_a_snapshot():
    """state_dict() copies the buffers: later steps do not change a saved state."""
    params = make_params()
    opt = nn.Adam(params)
    set_grads(params, np.random.default_rng(4))
    opt.step()
    state = opt.state_dict()
    saved = state["exp_avg.0"].copy()
    opt.step()
    np.testing.assert_array_equal(state["exp_avg.0"], saved)
    assert state["type"] == "Adam" and state["step"] == 1


def test_load_state_dict_rejects_mismatches_without_changes():
    """A state for other shapes or another optimizer raises and changes nothing."""
    params = make_params()
    opt = nn.SGD(params, lr=0.1, momentum=0.9)
    set_grads(params, np.random.default_rng(5))
    opt.step()
    good = opt.state_dict()
    bad = dict(good, **{"momentum_buffer.1": np.zeros(5)}, lr=0.5)
    with pytest.raises(ValueError, match=r"momentum_buffer.1.*shape \(5,\)"):
        opt.load_state_dict(bad)
    assert opt.lr == 0.1
    np.testing.assert_array_equal(opt.buffers["momentum_buffer"][1],
                                  good["momentum_buffer.1"])
    with pytest.raises(ValueError, match="is for 'SGD'"):
        nn.Adam(params).load_state_dict(good)
    with pytest.raises(ValueError, match="refers to parameter 7"):
        opt.load_state_dict(dict(good, **{"momentum_buffer.7": np.zeros(4)}))


def test_lr_is_settable():
    """Changing .lr changes the size of the next step (learning-rate schedules)."""
    p = nn.Parameter(np.zeros(1))
    opt = nn.SGD([p], lr=1.0)
    opt.lr = 0.25
    p.grad[...] = 1.0
    opt.step()
    assert p.data[0] == -0.25
    assert opt.state_dict()["lr"] == 0.25


def test_zero_grad_clears_in_place():
    """zero_grad() zeroes every gradient array without replacing it."""
    params = make_params()
    set_grads(params, np.random.default_rng(6))
    refs = [p.grad for p in params]
    nn.Adam(params).zero_grad()
    assert all(p.grad is r and not r.any() for p, r in zip(params, refs, strict=True))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: nn.SGD([], lr=0.1), "empty parameter list"),
        (lambda: nn.SGD(make_params(), lr=-1), "learning rate"),
        (lambda: nn.SGD(make_params(), lr=0.1, momentum=-0.5), "momentum"),
        (lambda: nn.Adam(make_params(), betas=(0.9, 1.0)), "betas"),
    ],
)
def test_bad_settings_raise(make, match):
    """Impossible optimizer settings raise ValueError naming the setting."""
    with pytest.raises(ValueError, match=match):
        make()
