"""Bad input to the optimizers: a step after a parameter changed its shape or dtype under its state
(the state never follows, and a refused step moves no parameter), and optimizer state_dicts that are
not torch's layout (not a mapping, keys missing, another optimizer's options or state, non-arrays).
A new optimizer joins by an entry in OPTIMIZERS."""
import numpy as np
import pytest

from scratch import nn, optim
from twins.parity import BadInput, assert_bad_input

# name -> (constructor, options that give it per-parameter state)
OPTIMIZERS = {
    "SGD": (optim.SGD, dict(lr=0.1, momentum=0.9)),
    "Adam": (optim.Adam, dict(amsgrad=True)),
    "AdamW": (optim.AdamW, {}),
    "RMSprop": (optim.RMSprop, dict(momentum=0.5, centered=True)),
}


def stepped(name, dtype=np.float32):
    """An optimizer of ``name`` over one (2, 3) parameter, after one step: it has state."""
    make, options = OPTIMIZERS[name]
    p = nn.Parameter(np.zeros((2, 3), dtype))
    opt = make([p], **options)
    p.grad = np.ones((2, 3), dtype)
    opt.step()
    return opt, p


def step_after_replacing_data(name, data):
    def call():
        opt, p = stepped(name)
        p.data, p.grad = data, np.ones_like(data)
        opt.step()
    return call


def load(name, state_dict):
    return lambda: stepped(name)[0].load_state_dict(state_dict)


def saved(name, **changes):
    """``name``'s state_dict after one step, with ``changes`` to its top level."""
    return stepped(name)[0].state_dict() | changes


def other_state(name, state):
    """``name``'s state_dict with the state of parameter 0 replaced."""
    return saved(name, state={0: state})


PARAMETER = r"param_groups\[0\]\['params'\]\[0\]"
CASES = []
for name in OPTIMIZERS:
    CASES += [
        BadInput(f"{name}: step after the parameter changed shape", step_after_replacing_data(name, np.zeros(4, np.float32)),
                 ValueError, "param_groups[0]['params'][0]",
                 rf"{PARAMETER}: expected the shape \(2, 3\) and dtype float32 its state '\w+' was made for, got a "
                 rf"parameter of shape \(4,\) and dtype float32"),
        BadInput(f"{name}: step after the parameter became float64", step_after_replacing_data(name, np.zeros((2, 3))),
                 TypeError, "param_groups[0]['params'][0]", r"got a parameter of shape \(2, 3\) and dtype float64"),
        BadInput(f"{name}: load_state_dict of an empty dict", load(name, {}), ValueError, "state_dict",
                 r"expected a mapping .*, got one without \['state', 'param_groups'\]"),
        BadInput(f"{name}: load_state_dict of a list", load(name, []), TypeError, "state_dict", r"got list \[\]"),
        BadInput(f"{name}: load_state_dict of None", load(name, None), TypeError, "state_dict", r"got NoneType None"),
        BadInput(f"{name}: state not a mapping", load(name, saved(name, state=[1])), TypeError, "state_dict['state']",
                 r"expected a mapping of parameter index -> \{name: array\}, got list"),
        BadInput(f"{name}: param_groups without params", load(name, saved(name, param_groups=[{"lr": 0.1}])), TypeError,
                 "state_dict['param_groups']", r"expected a list of dicts, each with a 'params' list"),
        BadInput(f"{name}: a state value that is text", load(name, other_state(name, {"step": "one"})), TypeError,
                 "state_dict['state'][0]['step']", r"expected an array of numbers, got str 'one'"),
        BadInput(f"{name}: state of another optimizer", load(name, other_state(name, {"momentum_b": np.zeros((2, 3), np.float32)})),
                 ValueError, "state_dict['state'][0]", r"expected the state \[.*\] that \w+ keeps with these options, "
                 r"got \['momentum_b'\]"),
    ]
CASES += [
    BadInput("Adam loads SGD's state_dict", load("Adam", saved("SGD")), ValueError, "state_dict['param_groups'][0]",
             r"expected the options \['amsgrad', .*\] of Adam, got \['dampening', .*\]"),
    BadInput("SGD loads Adam's state_dict", load("SGD", saved("Adam")), ValueError, "state_dict['param_groups'][0]",
             r"of SGD, got \['amsgrad', "),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_to_an_optimizer_is_named(case):
    assert_bad_input(case)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_refused_step_moves_no_parameter(name):
    """Two parameters, the second changed under its state: the step is refused before the first moves."""
    make, options = OPTIMIZERS[name]
    first, second = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(2))
    opt = make([first, second], **options)
    first.grad, second.grad = np.ones(3), np.ones(2)
    opt.step()
    before = first.data.copy()
    second.data, second.grad = np.ones(5), np.ones(5)
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['params'\]\[1\]"):
        opt.step()
    np.testing.assert_array_equal(first.data, before)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_dropping_the_state_lets_a_changed_parameter_train_again(name):
    """What the refusal suggests works: after ``del optimizer.state[param]`` the state starts afresh."""
    opt, p = stepped(name)
    p.data, p.grad = np.zeros(4), np.ones(4)
    del opt.state[p]
    opt.step()
    assert all(value.dtype == np.float64 for value in opt.state[p].values() if value.ndim)


def test_torch_sgd_state_without_momentum_loads():
    """torch's SGD keeps momentum_buffer None without momentum: read as no state, not refused."""
    opt = optim.SGD([nn.Parameter(np.zeros(3))], lr=0.1)
    state = opt.state_dict() | {"state": {0: {"momentum_buffer": None}}}
    opt.load_state_dict(state)
    assert opt.state == {}
