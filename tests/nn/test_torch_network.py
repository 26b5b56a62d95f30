"""PyTorch as oracle for whole networks: a training step, optimizers and BatchNorm."""

import numpy as np
import pytest

from convlab import nn
from convlab.nn.architectures import NAMED_ARCHS, build

torch = pytest.importorskip("torch")

RTOL = 1e-6


def torch_sample_net():
    """The design guide's sample network in PyTorch."""
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(1, 32, 3), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(32, 64, 3), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(1600, 128), tnn.ReLU(), tnn.Linear(128, 10),
    ).double()


def copy_weights(net, tnet):
    """Put our network's weights into the PyTorch one (same names, same layouts)."""
    state = {name: torch.from_numpy(value.copy()) for name, value in
             net.state_dict().items()}
    tnet.load_state_dict(state, strict=False)
    assert set(state) <= set(tnet.state_dict())


def assert_close(ours, theirs, what):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    scale = max(np.abs(theirs).max(), 1e-12)
    error = np.abs(ours - theirs).max() / scale
    assert error < RTOL, f"{what}: relative error {error:.2e}"


def test_sample_network_training_step_matches_pytorch():
    """One forward/backward of the sample net: loss and every gradient match torch."""
    rng = np.random.default_rng(0)
    net = build(NAMED_ARCHS["sample"], rng).to(np.float64)
    tnet = torch_sample_net()
    copy_weights(net, tnet)
    x = rng.random((16, 1, 28, 28))
    y = rng.integers(0, 10, 16)

    loss, dlogits = nn.softmax_cross_entropy(net.forward(x), y)
    dx = net.backward(dlogits)

    tx = torch.from_numpy(x).requires_grad_()
    tloss = torch.nn.functional.cross_entropy(tnet(tx), torch.from_numpy(y))
    tloss.backward()

    assert abs(loss - tloss.item()) <= RTOL * abs(tloss.item())
    assert_close(dx, tx.grad, "input gradient")
    tparams = dict(tnet.named_parameters())
    for name, p in net.named_parameters():
        assert_close(p.grad, tparams[name].grad, name)


def test_bn_network_training_steps_match_pytorch():
    """Several Adam steps of the batch-norm sample net track torch, statistics too."""
    rng = np.random.default_rng(1)
    net = build(NAMED_ARCHS["sample-bn"], rng).to(np.float64)
    tnn = torch.nn
    tnet = tnn.Sequential(
        tnn.Conv2d(1, 32, 3, bias=False), tnn.BatchNorm2d(32), tnn.ReLU(),
        tnn.MaxPool2d(2), tnn.Conv2d(32, 64, 3, bias=False), tnn.BatchNorm2d(64),
        tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(1600, 128),
        tnn.ReLU(), tnn.Linear(128, 10),
    ).double()
    copy_weights(net, tnet)
    opt = nn.Adam(net.parameters(), lr=1e-3)
    topt = torch.optim.Adam(tnet.parameters(), lr=1e-3)
    for _ in range(3):
        x = rng.random((8, 1, 28, 28))
        y = rng.integers(0, 10, 8)
        loss, dlogits = nn.softmax_cross_entropy(net.forward(x), y)
        opt.zero_grad()
        net.backward(dlogits)
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tnet(torch.from_numpy(x)),
                                                  torch.from_numpy(y))
        tloss.backward()
        topt.step()
        assert abs(loss - tloss.item()) <= RTOL * abs(tloss.item())
    tstate = tnet.state_dict()
    for name, value in net.state_dict().items():
        assert_close(value, tstate[name], name)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda ps: nn.SGD(ps, lr=0.1),
         lambda ps: torch.optim.SGD(ps, lr=0.1)),
        (lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-2),
         lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-2)),
        (lambda ps: nn.Adam(ps, lr=1e-2),
         lambda ps: torch.optim.Adam(ps, lr=1e-2)),
        (lambda ps: nn.Adam(ps, lr=3e-3, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1),
         lambda ps: torch.optim.Adam(ps, lr=3e-3, betas=(0.8, 0.95), eps=1e-6,
                                     weight_decay=0.1)),
    ],
    ids=["sgd", "sgd-momentum-wd", "adam", "adam-betas-wd"],
)
def test_optimizer_steps_match_torch_optim(ours, theirs):
    """Eight steps with the same gradients leave the same weights as torch.optim."""
    rng = np.random.default_rng(2)
    shapes = [(8, 3, 3, 3), (8,), (10, 20)]
    params = [nn.Parameter(rng.standard_normal(s)) for s in shapes]
    tparams = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    opt, topt = ours(params), theirs(tparams)
    for step in range(8):
        # Gradients that change sign and size, so momentum and Adam's moments matter.
        grads = [rng.standard_normal(s) * (1 + step % 3) for s in shapes]
        if step == 6:
            opt.lr = topt.param_groups[0]["lr"] = opt.lr * 0.5
        for p, tp, g in zip(params, tparams, grads, strict=True):
            p.grad[...] = g
            tp.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    for i, (p, tp) in enumerate(zip(params, tparams, strict=True)):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=f"parameter {i}")


def test_batchnorm_train_and_eval_match_torch():
    """BatchNorm2d: training output, gradients, running stats and eval output."""
    rng = np.random.default_rng(3)
    bn = nn.BatchNorm2d(5, momentum=0.2).to(np.float64)
    bn.weight.data[...] = rng.uniform(0.5, 1.5, 5)
    bn.bias.data[...] = rng.standard_normal(5)
    tbn = torch.nn.BatchNorm2d(5, momentum=0.2).double()
    with torch.no_grad():
        tbn.weight.copy_(torch.from_numpy(bn.weight.data))
        tbn.bias.copy_(torch.from_numpy(bn.bias.data))

    for _ in range(3):
        x = rng.standard_normal((4, 5, 6, 7)) * 3 + 1
        dout = rng.standard_normal(x.shape)
        out = bn.forward(x)
        dx = bn.backward(dout)
        tx = torch.from_numpy(x).requires_grad_()
        tout = tbn(tx)
        tout.backward(torch.from_numpy(dout))
        assert_close(out, tout, "training output")
        assert_close(dx, tx.grad, "input gradient")
    assert_close(bn.weight.grad, tbn.weight.grad, "weight gradient")
    assert_close(bn.bias.grad, tbn.bias.grad, "bias gradient")
    assert_close(bn.running_mean, tbn.running_mean, "running mean")
    assert_close(bn.running_var, tbn.running_var, "running var")

    bn.eval()
    tbn.eval()
    x = rng.standard_normal((2, 5, 3, 3))
    assert_close(bn.forward(x), tbn(torch.from_numpy(x)), "eval output")


def test_reprs_equal_torch_where_the_layers_agree():
    """Conv2d, Linear, ReLU and a Sequential of them print exactly as in PyTorch."""
    tnn = torch.nn
    ours = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1, bias=False),
                         nn.ReLU(), nn.Linear(10, 4))
    theirs = tnn.Sequential(tnn.Conv2d(1, 8, 3, stride=2, padding=1, bias=False),
                            tnn.ReLU(), tnn.Linear(10, 4))
    assert repr(ours) == repr(theirs)
