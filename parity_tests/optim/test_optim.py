"""scratch.optim and clip_grad_norm_ against torch.optim and torch.nn.utils, step for step.

Optimizers see identical parameters and the same sequence of random gradients (some
missing) and must leave identical parameters and state, compared by name after every
step; schedulers must produce torch's lr sequence; a small MLP must train in lockstep.
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from scratch import nn, optim
from twins.parity import assert_close, copy_to_torch, dtypes, randomise, seeds, to_torch, tolerance

OPTIMIZERS = {
    "SGD": (optim.SGD, torch.optim.SGD),
    "Adam": (optim.Adam, torch.optim.Adam),
    "AdamW": (optim.AdamW, torch.optim.AdamW),
    "RMSprop": (optim.RMSprop, torch.optim.RMSprop),
}
SCHEDULERS = {
    "StepLR": (optim.lr_scheduler.StepLR, torch.optim.lr_scheduler.StepLR),
    "ExponentialLR": (optim.lr_scheduler.ExponentialLR, torch.optim.lr_scheduler.ExponentialLR),
    "CosineAnnealingLR": (optim.lr_scheduler.CosineAnnealingLR, torch.optim.lr_scheduler.CosineAnnealingLR),
}

shapes = st.lists(st.lists(st.integers(1, 5), max_size=3).map(tuple), min_size=1, max_size=4)


@st.composite
def hyperparameters(draw, name):
    """Options for one optimizer, covering each of its branches."""
    options = dict(lr=draw(st.floats(1e-3, 0.3)), maximize=draw(st.booleans()),
                   weight_decay=draw(st.sampled_from([0.0, 0.0, 1e-2, 0.3])))
    if name == "SGD":
        options["momentum"] = draw(st.sampled_from([0.0, 0.5, 0.9]))
        options["nesterov"] = options["momentum"] > 0 and draw(st.booleans())
        options["dampening"] = 0.0 if options["nesterov"] else draw(st.sampled_from([0.0, 0.3]))
    elif name in ("Adam", "AdamW"):
        options["betas"] = (draw(st.floats(0.0, 0.95)), draw(st.floats(0.5, 0.999)))
        options["eps"] = draw(st.sampled_from([1e-8, 1e-3]))
        options["amsgrad"] = draw(st.booleans())
    else:
        options.update(alpha=draw(st.floats(0.8, 0.99)), eps=draw(st.sampled_from([1e-8, 1e-3])),
                       momentum=draw(st.sampled_from([0.0, 0.0, 0.7])), centered=draw(st.booleans()))
    return options


def twin_parameters(shapes, dtype, rng):
    """The same random arrays as scratch Parameters and as torch Parameters, by name."""
    arrays = {f"p{i}": rng.normal(size=shape).astype(dtype) for i, shape in enumerate(shapes)}
    return ({name: nn.Parameter(a.copy()) for name, a in arrays.items()},
            {name: torch.nn.Parameter(to_torch(a)) for name, a in arrays.items()})


def grouped(params, names, group_lrs):
    """One group per entry of ``group_lrs`` (None: the default lr), parameters dealt out in order."""
    split = np.array_split(np.array(names, dtype=object), len(group_lrs))
    groups = [{"params": [params[n] for n in part]} | ({} if lr is None else {"lr": lr})
              for part, lr in zip(split, group_lrs)]
    return [g for g in groups if g["params"]]


def compare_state(scratch_opt, torch_opt, names, dtype, label):
    """Per-parameter state (momentum buffers, moments, step counts) by name, in torch's layout."""
    ours, theirs = scratch_opt.state_dict()["state"], torch_opt.state_dict()["state"]
    assert set(ours) == set(theirs), f"{label}: state for parameters {sorted(ours)}, torch has {sorted(theirs)}"
    for index, state in ours.items():
        assert set(state) == set(theirs[index]), f"{label}: state keys {sorted(state)} vs torch {sorted(theirs[index])}"
        for key, value in state.items():
            assert_close(value, theirs[index][key], f"{label}: state {key} of {names[index]}", *tolerance(dtype, "train"))


@pytest.mark.parametrize("name", OPTIMIZERS)
@given(shapes=shapes, dtype=dtypes, n_steps=st.integers(1, 6), data=st.data(), seed=seeds,
       group_lrs=st.sampled_from([[None], [None, 0.05], [0.2, None, 0.01]]))
def test_optimizer_lockstep(name, shapes, dtype, n_steps, group_lrs, data, seed):
    rng = np.random.default_rng(seed)
    options = data.draw(hyperparameters(name))
    params, torch_params = twin_parameters(shapes, dtype, rng)
    names = list(params)
    make, make_twin = OPTIMIZERS[name]
    opt = make(grouped(params, names, group_lrs), **options)
    torch_opt = make_twin(grouped(torch_params, names, group_lrs), **options)
    for step in range(n_steps):
        for pname in names:
            scale = rng.choice([0.01, 1.0, 10.0])
            grad = None if rng.random() < 0.15 else rng.normal(0, scale, params[pname].shape).astype(dtype)
            params[pname].grad = grad
            torch_params[pname].grad = None if grad is None else to_torch(grad)
        opt.step()
        torch_opt.step()
        for pname in names:
            assert params[pname].data.dtype == dtype, f"{name} changed the dtype of {pname}"
            assert_close(params[pname].data, torch_params[pname], f"{name} step {step}: {pname}", *tolerance(dtype, "train"))
        compare_state(opt, torch_opt, names, dtype, f"{name} step {step}")


@pytest.mark.parametrize("name", OPTIMIZERS)
@given(dtype=dtypes, seed=seeds)
def test_state_dict_round_trip_and_into_torch(name, dtype, seed):
    """A checkpoint resumes a fresh scratch optimizer exactly, and the torch twin from the same state."""
    rng = np.random.default_rng(seed)
    options = {"SGD": dict(momentum=0.9), "RMSprop": dict(momentum=0.5, centered=True),
               "Adam": dict(amsgrad=True), "AdamW": {}}[name]
    params, torch_params = twin_parameters([(3, 2), (4,)], dtype, rng)
    names = list(params)
    make, make_twin = OPTIMIZERS[name]
    opt = make(grouped(params, names, [None, 0.02]), lr=0.01, **options)
    grads = [{n: rng.normal(size=p.shape).astype(dtype) for n, p in params.items()} for _ in range(6)]
    for step_grads in grads[:3]:
        for n, p in params.items():
            p.grad = step_grads[n].copy()
        opt.step()
    checkpoint = opt.state_dict()

    resumed_params = {n: nn.Parameter(p.data.copy()) for n, p in params.items()}
    resumed = make(grouped(resumed_params, names, [None, None]), lr=0.5, **options)
    resumed.load_state_dict(checkpoint)
    for n, p in torch_params.items():
        p.data.copy_(to_torch(params[n].data))
    torch_opt = make_twin(grouped(torch_params, names, [None, None]), lr=0.5, **options)
    torch_state = torch_opt.state_dict()
    for group, saved in zip(torch_state["param_groups"], checkpoint["param_groups"]):
        group.update({k: v for k, v in saved.items() if k in group and k != "params"})
    torch_state["state"] = {i: {k: to_torch(v) for k, v in s.items()} for i, s in checkpoint["state"].items()}
    torch_opt.load_state_dict(torch_state)

    for step_grads in grads[3:]:
        for n in names:
            params[n].grad, resumed_params[n].grad = step_grads[n].copy(), step_grads[n].copy()
            torch_params[n].grad = to_torch(step_grads[n])
        opt.step(), resumed.step(), torch_opt.step()
    for n in names:
        np.testing.assert_array_equal(resumed_params[n].data, params[n].data, err_msg=f"resumed {n}")
        assert_close(params[n].data, torch_params[n], f"{name} resumed in torch: {n}", *tolerance(dtype, "train"))


def test_zero_grad_and_params_without_grad():
    p, q = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(2))
    opt = optim.SGD([p, q], lr=0.5, momentum=0.9)
    p.grad = np.array([1.0, 2.0, 3.0])
    opt.step()
    np.testing.assert_array_equal(q.data, np.ones(2))
    assert q not in opt.state
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, np.zeros(3))
    assert q.grad is None
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("name", SCHEDULERS)
@given(lrs=st.lists(st.floats(1e-3, 1.0), min_size=1, max_size=3), n_steps=st.integers(1, 40),
       data=st.data())
def test_scheduler_matches_torch(name, lrs, n_steps, data):
    options = {
        "StepLR": lambda: dict(step_size=data.draw(st.integers(1, 7)), gamma=data.draw(st.floats(0.1, 1.0))),
        "ExponentialLR": lambda: dict(gamma=data.draw(st.floats(0.5, 1.0))),
        "CosineAnnealingLR": lambda: dict(T_max=data.draw(st.integers(1, 10)), eta_min=data.draw(st.sampled_from([0.0, 1e-4]))),
    }[name]()
    nudge_at = data.draw(st.integers(0, n_steps))  # an lr changed by hand: the recursive formulas must carry it
    opt = optim.SGD([{"params": [nn.Parameter(np.zeros(1))], "lr": lr} for lr in lrs])
    torch_opt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs])
    make, make_twin = SCHEDULERS[name]
    scheduler, torch_scheduler = make(opt, **options), make_twin(torch_opt, **options)
    rtol, atol = tolerance(np.float64, "forward")
    for step in range(n_steps + 1):
        assert scheduler.last_epoch == torch_scheduler.last_epoch == step
        assert_close(scheduler.get_last_lr(), torch_scheduler.get_last_lr(), f"{name} lr at epoch {step}", rtol, atol)
        group_lrs = [g["lr"] for g in opt.param_groups], [g["lr"] for g in torch_opt.param_groups]
        assert_close(*group_lrs, f"{name} group lr", rtol, atol)
        if step == nudge_at:
            for group in (*opt.param_groups, *torch_opt.param_groups):
                group["lr"] *= 0.5
        opt.step(), torch_opt.step()
        scheduler.step(), torch_scheduler.step()


@given(shapes=shapes, dtype=dtypes, norm_type=st.sampled_from([1, 2.0, math.inf, 3]), max_norm=st.floats(0.01, 10.0),
       scale=st.sampled_from([0.01, 1.0, 10.0]), seed=seeds)
def test_clip_grad_norm_matches_torch(shapes, dtype, norm_type, max_norm, scale, seed):
    rng = np.random.default_rng(seed)
    params, torch_params = twin_parameters(shapes, dtype, rng)
    for i, (pname, p) in enumerate(params.items()):
        if i == 0 or rng.random() > 0.2:
            p.grad = rng.normal(0, scale, p.shape).astype(dtype)
            torch_params[pname].grad = to_torch(p.grad)
    total_norm = nn.utils.clip_grad_norm_(params.values(), max_norm, norm_type)
    torch_norm = torch.nn.utils.clip_grad_norm_(torch_params.values(), max_norm, norm_type)
    size = sum(p.size for p in params.values())
    rtol, atol = tolerance(dtype, "grad", size)
    assert np.asarray(total_norm).dtype == dtype
    assert_close(total_norm, torch_norm, f"clip_grad_norm_ total norm (norm_type={norm_type})", rtol, atol)
    for pname, p in params.items():
        expected = torch_params[pname].grad
        assert (p.grad is None) == (expected is None), f"{pname}: grad presence differs"
        if p.grad is not None:
            assert_close(p.grad, expected, f"clipped grad of {pname} (norm_type={norm_type})", rtol, atol)


def test_clip_grad_norm_nonfinite_and_empty():
    p = nn.Parameter(np.ones(3))
    p.grad = np.array([1.0, np.inf, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([nn.Parameter(np.ones(2))], 1.0) == 0.0


MLP_SETUPS = {
    "SGD": (dict(momentum=0.9, nesterov=True, weight_decay=1e-3), "StepLR", dict(step_size=5, gamma=0.5)),
    "Adam": (dict(amsgrad=True, betas=(0.8, 0.99)), "ExponentialLR", dict(gamma=0.9)),
    "AdamW": (dict(weight_decay=0.1), "CosineAnnealingLR", dict(T_max=8, eta_min=1e-4)),
    "RMSprop": (dict(momentum=0.5, centered=True, alpha=0.9), "CosineAnnealingLR", dict(T_max=20)),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
@given(dtype=dtypes, hidden=st.integers(1, 12), batch_size=st.integers(1, 8), clip=st.booleans(), seed=seeds)
def test_mlp_trains_in_lockstep(name, dtype, hidden, batch_size, clip, seed):
    """Linear-Tanh-Linear on an MSE loss, 20 steps, two param groups, a scheduler, optional clipping."""
    rng = np.random.default_rng(seed)
    num_steps, n_in, n_out = 20, 4, 3
    model = randomise(nn.Sequential(nn.Linear(n_in, hidden, dtype=dtype, rng=rng), nn.Tanh(),
                                    nn.Linear(hidden, n_out, dtype=dtype, rng=rng)), rng, scale=0.5)
    twin = torch.nn.Sequential(torch.nn.Linear(n_in, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, n_out))
    twin = copy_to_torch(model, twin.to({np.float32: torch.float32, np.float64: torch.float64}[dtype]))
    X = rng.normal(size=(num_steps * batch_size, n_in)).astype(dtype)
    y = rng.normal(size=(num_steps * batch_size, n_out)).astype(dtype)
    options, scheduler_name, scheduler_options = MLP_SETUPS[name]
    make, make_twin = OPTIMIZERS[name]
    make_scheduler, make_twin_scheduler = SCHEDULERS[scheduler_name]

    def groups(module):
        return [{"params": module[0].parameters()}, {"params": module[2].parameters(), "lr": 0.02}]

    opt, torch_opt = make(groups(model), lr=0.05, **options), make_twin(groups(twin), lr=0.05, **options)
    scheduler = make_scheduler(opt, **scheduler_options)
    torch_scheduler = make_twin_scheduler(torch_opt, **scheduler_options)
    torch_params = dict(twin.named_parameters())
    rtol, atol = tolerance(dtype, "train", hidden)
    for step in range(num_steps):
        X_batch, y_batch = (a[step * batch_size:(step + 1) * batch_size] for a in (X, y))
        opt.zero_grad()
        y_hat = model(X_batch)
        loss = np.mean((y_hat - y_batch) ** 2)
        model.backward(2 * (y_hat - y_batch) / y_hat.size)
        torch_opt.zero_grad()
        torch_loss = ((twin(to_torch(X_batch)) - to_torch(y_batch)) ** 2).mean()
        torch_loss.backward()
        assert_close(loss, torch_loss, f"{name} loss at step {step}", rtol, atol)
        if clip:
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            assert_close(norm, torch.nn.utils.clip_grad_norm_(twin.parameters(), 0.5), f"grad norm at step {step}", rtol, atol)
        opt.step(), torch_opt.step()
        scheduler.step(), torch_scheduler.step()
        for pname, p in model.named_parameters():
            assert_close(p.data, torch_params[pname], f"{name} step {step}: {pname}", rtol, atol)
        assert_close(scheduler.get_last_lr(), torch_scheduler.get_last_lr(), f"{scheduler_name} lr", 1e-12, 0)


def _p():
    return nn.Parameter(np.zeros(3))


def _stepped_sgd():
    opt = optim.SGD([_p()], lr=0.1, momentum=0.9)
    opt.param_groups[0]["params"][0].grad = np.ones(3)
    opt.step()
    return opt


@pytest.mark.parametrize("build, error, match", [
    (lambda: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda: optim.SGD(_p(), lr=0.1), TypeError, "iterable of Parameters"),
    (lambda: optim.SGD([np.zeros(3)], lr=0.1), TypeError, "can only optimize Parameters"),
    (lambda: optim.SGD([{"params": {_p()}}], lr=0.1), TypeError, "not a set"),
    (lambda: optim.SGD([_p()], lr=-0.1), ValueError, r"invalid lr -0\.1"),
    (lambda: optim.Adam([_p()], lr="0.1"), TypeError, "lr must be a real number"),
    (lambda: optim.SGD([_p()], lr=0.1, momentum=-0.5), ValueError, "invalid momentum"),
    (lambda: optim.SGD([_p()], lr=0.1, nesterov=True), ValueError, "nesterov=True requires momentum > 0"),
    (lambda: optim.SGD([_p()], lr=0.1, weight_decay=-1e-4), ValueError, "invalid weight_decay"),
    (lambda: optim.Adam([_p()], betas=(1.0, 0.999)), ValueError, r"invalid betas\[0\] 1\.0, expected \[0\.0, 1\.0\)"),
    (lambda: optim.AdamW([_p()], betas=(0.9, -0.1)), ValueError, r"invalid betas\[1\]"),
    (lambda: optim.Adam([_p()], betas=0.9), ValueError, "betas must be a pair"),
    (lambda: optim.Adam([_p()], eps=-1e-8), ValueError, "invalid eps"),
    (lambda: optim.RMSprop([_p()], alpha=-0.5), ValueError, "invalid alpha"),
    (lambda: optim.SGD([_p()], lr=0.1, foreach=True), TypeError, "unexpected keyword argument 'foreach'"),
    (lambda: optim.Adam([{"params": [_p()], "momentum": 0.9}]), ValueError, r"unknown option\(s\) \['momentum'\]"),
    (lambda: optim.SGD([{"params": [_p()]}, {"params": [_p()], "lr": -1.0}], lr=0.1), ValueError, "invalid lr -1.0"),
    (lambda: optim.SGD([{"lr": 0.1}]), ValueError, "missing the 'params' key"),
    (lambda: (lambda p: optim.SGD([p, p], lr=0.1))(_p()), ValueError, "more than once"),
    (lambda: optim.lr_scheduler.StepLR("sgd", step_size=2), TypeError, "expected an Optimizer"),
    (lambda: optim.lr_scheduler.StepLR(optim.SGD([_p()]), step_size=0), ValueError, "step_size must be a positive integer"),
    (lambda: optim.lr_scheduler.CosineAnnealingLR(optim.SGD([_p()]), T_max=2.5), ValueError, "T_max must be a positive integer"),
    (lambda: optim.lr_scheduler.ExponentialLR(optim.SGD([_p()]), gamma="0.9"), TypeError, "gamma must be a real number"),
    (lambda: optim.lr_scheduler.ExponentialLR(optim.SGD([_p()]), gamma=0.9, last_epoch=3), KeyError, "initial_lr"),
    (lambda: optim.SGD([{"params": [_p()]}]).load_state_dict(_stepped_sgd().state_dict() | {"param_groups": []}),
     ValueError, "0 parameter groups, the optimizer has 1"),
    (lambda: optim.SGD([nn.Parameter(np.zeros(4))]).load_state_dict(_stepped_sgd().state_dict()),
     ValueError, r"state 'momentum_buffer' of parameter 0: expected shape \(4,\)"),
])
def test_bad_arguments_raise(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_gradient_of_wrong_dtype_or_shape_raises():
    p = nn.Parameter(np.zeros(3))
    opt = optim.Adam([p])
    p.grad = np.zeros(3, dtype=np.float32)
    with pytest.raises(TypeError, match=r"gradient that is ndarray of shape \(3,\) and dtype float32"):
        opt.step()
    p.grad = np.zeros(4)
    with pytest.raises(TypeError, match="expected the same shape and dtype"):
        opt.step()
