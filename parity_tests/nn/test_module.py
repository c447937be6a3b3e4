"""The Module contract against torch.nn.Module: bookkeeping, train/eval, gradients, repr,
load_state_dict, checkpoints, and bad input that must fail loudly with a message that names it."""
import io
import itertools
import re

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import scratch
from scratch import nn
from scratch.projects.cnn.model import CNN
from scratch.projects.forecasting.model import Forecaster
from scratch.projects.mlp.model import MLP
from twins.parity import assert_close, copy_to_torch, dtypes, randomise, seeds, tolerance, torch_dtype


class Net(nn.Module):
    """A nested model: Sequential, a ModuleList of Sequentials, a head, and two buffers."""

    def __init__(self, sizes, out, bias=True, dtype=None, rng=None):
        super().__init__()
        self.stem = nn.Sequential(nn.Flatten(), nn.Linear(sizes[0], sizes[1], dtype=dtype, rng=rng), nn.ReLU())
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(a, b, dtype=dtype, rng=rng), nn.Tanh(), nn.Dropout(0.0))
                                    for a, b in zip(sizes[1:], sizes[2:]))
        self.head = nn.Linear(sizes[-1], out, bias=bias, dtype=dtype, rng=rng)
        self.register_buffer("scale", np.ones(out, dtype=self.head.weight.dtype))
        self.register_buffer("steps", np.zeros((), dtype=np.int64))

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x) * self.scale

    def backward(self, grad):
        grad = self.head.backward(grad * self.scale)
        for block in reversed(list(self.blocks)):
            grad = block.backward(grad)
        return self.stem.backward(grad)


class TorchNet(torch.nn.Module):
    def __init__(self, sizes, out, bias=True, dtype=None):
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(sizes[0], sizes[1], dtype=dtype), torch.nn.ReLU())
        self.blocks = torch.nn.ModuleList(
            torch.nn.Sequential(torch.nn.Linear(a, b, dtype=dtype), torch.nn.Tanh(), torch.nn.Dropout(0.0))
            for a, b in zip(sizes[1:], sizes[2:]))
        self.head = torch.nn.Linear(sizes[-1], out, bias=bias, dtype=dtype)
        self.register_buffer("scale", torch.ones(out, dtype=dtype))
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x) * self.scale


net_configs = st.fixed_dictionaries({
    "sizes": st.lists(st.integers(1, 6), min_size=2, max_size=5),
    "out": st.integers(1, 5),
    "bias": st.booleans(),
    "dtype": dtypes,
})


def twins(config, rng):
    """A randomised scratch Net and a torch twin holding the same state."""
    model = randomise(Net(**config, rng=rng), rng)
    twin = TorchNet(**{**config, "dtype": torch_dtype(config["dtype"])})
    return model, copy_to_torch(model, twin)


def net_input(config, rng, batch=3):
    return rng.normal(size=(batch, config["sizes"][0])).astype(config["dtype"])


# --- bookkeeping -------------------------------------------------------------------------


@given(config=net_configs, seed=seeds)
def test_nested_model_names_keys_and_shapes_match_torch(config, seed):
    model, twin = twins(config, np.random.default_rng(seed))
    names = lambda pairs: [(name, tuple(value.shape)) for name, value in pairs]  # noqa: E731
    assert names(model.named_parameters()) == names(twin.named_parameters())
    assert names(model.named_buffers()) == names(twin.named_buffers())
    assert names(model.state_dict().items()) == names(twin.state_dict().items())
    assert [name for name, _ in model.named_modules()] == [name for name, _ in twin.named_modules()]
    assert [name for name, _ in model.named_children()] == [name for name, _ in twin.named_children()]
    for key, value in twin.state_dict().items():
        assert model.state_dict()[key].dtype == value.numpy().dtype, key


def test_register_buffer_is_state_but_not_a_parameter():
    model = Net([4, 3], 2, rng=np.random.default_rng(0))
    assert "scale" in model.state_dict() and "steps" in model.state_dict()
    assert "scale" not in dict(model.named_parameters())
    model.scale = np.full(2, 3.0, dtype=np.float32)  # assignment to a buffer name replaces the buffer
    np.testing.assert_array_equal(model.state_dict()["scale"], [3.0, 3.0])
    model.steps += 1  # a 0-d array plus one is a NumPy scalar; the buffer stays an array
    assert isinstance(model.steps, np.ndarray) and model.state_dict()["steps"] == 1
    model.register_buffer("empty", None)
    assert "empty" not in model.state_dict()
    with pytest.raises(TypeError, match=r"cannot assign str 'three' as buffer 'scale'"):
        model.scale = "three"
    with pytest.raises(KeyError, match="'head' already exists"):
        model.register_buffer("head", np.zeros(1))


def test_non_persistent_buffers_stay_out_of_the_state_dict_as_in_torch():
    model = Net([4, 3], 2, rng=np.random.default_rng(0))
    twin = TorchNet([4, 3], 2)
    model.register_buffer("table", np.arange(3.0), persistent=False)
    twin.register_buffer("table", torch.arange(3.0), persistent=False)
    assert list(model.state_dict()) == list(twin.state_dict()) and "table" not in model.state_dict()
    assert [name for name, _ in model.named_buffers()] == [name for name, _ in twin.named_buffers()]
    model.load_state_dict({key: value.numpy() for key, value in twin.state_dict().items()})  # strict: table not needed
    with pytest.raises(ValueError, match="unexpected key.*table"):
        model.load_state_dict({**model.state_dict(), "table": np.arange(3.0)})
    model.table = np.zeros(3)  # assignment keeps it a non-persistent buffer
    assert "table" not in model.state_dict() and "table" in dict(model.named_buffers())
    model.register_buffer("table", np.ones(3))  # registering again as persistent puts it back, as torch
    twin.register_buffer("table", torch.ones(3))
    assert list(model.state_dict()) == list(twin.state_dict()) and "table" in model.state_dict()


def test_state_dict_is_a_copy():
    model = Net([4, 3], 2, rng=np.random.default_rng(0))
    state = model.state_dict()
    state["head.weight"][...] = 7
    assert not np.any(model.head.weight.data == 7)


@given(config=net_configs, seed=seeds, which=st.sampled_from(["", "stem", "blocks", "head"]))
def test_train_eval_propagate_like_torch(config, seed, which):
    model, twin = twins(config, np.random.default_rng(seed))
    training = lambda m: [(name, module.training) for name, module in m.named_modules()]  # noqa: E731
    assert model.eval() is model
    twin.eval()
    assert training(model) == training(twin) and not any(flag for _, flag in training(model))
    for m in (model, twin):  # switch one subtree back, the rest stays in eval
        (m.get_submodule(which) if isinstance(m, torch.nn.Module) else _get(m, which)).train()
    assert training(model) == training(twin)
    model.train(), twin.train()
    assert training(model) == training(twin) and all(flag for _, flag in training(model))


def _get(module, path):
    for name in filter(None, path.split(".")):
        module = getattr(module, name)
    return module


@given(config=net_configs, seed=seeds)
def test_gradients_accumulate_over_two_backward_calls_like_torch(config, seed):
    rng = np.random.default_rng(seed)
    model, twin = twins(config, rng)
    for _ in range(2):
        x = net_input(config, rng)
        y = model(x)
        g = rng.standard_normal(y.shape).astype(y.dtype)
        model.backward(g)
        twin(torch.from_numpy(x)).backward(torch.from_numpy(g))
    torch_params = dict(twin.named_parameters())
    rtol, atol = tolerance(config["dtype"], "grad", reduction=2 * 3 * max(config["sizes"]))
    for name, param in model.named_parameters():
        assert_close(param.grad, torch_params[name].grad, f"accumulated grad of {name}", rtol, atol)
    model.zero_grad()
    twin.zero_grad()
    assert all(param.grad is None for param in model.parameters())
    assert all(param.grad is None for param in twin.parameters())


def test_zero_grad_set_to_none_false_keeps_zeroed_arrays():
    model = nn.Linear(3, 2, rng=np.random.default_rng(0))
    model(np.ones((1, 3), np.float32))
    model.backward(np.ones((1, 2), np.float32))
    model.zero_grad(set_to_none=False)
    assert all(param.grad is not None and not param.grad.any() for param in model.parameters())


def _linear(*sizes, rng):
    return [nn.Linear(a, b, dtype=np.float64, rng=rng) for a, b in itertools.pairwise(sizes)]


# The backward contract's opt-out: what input_grad=False is tested on, as (module, forward inputs) makers.
INPUT_GRAD_CASES = {
    "Linear, 3-d input": lambda rng: (_linear(5, 3, rng=rng)[0], (rng.normal(size=(2, 4, 5)),)),
    "Sequential, Linear first": lambda rng: (nn.Sequential(_linear(5, 4, rng=rng)[0], nn.ReLU(), *_linear(4, 3, rng=rng)),
                                             (rng.normal(size=(6, 5)),)),
    "Sequential, Flatten first": lambda rng: (nn.Sequential(nn.Flatten(), *_linear(6, 3, rng=rng)), (rng.normal(size=(4, 2, 3)),)),
    "Sequential in Sequential": lambda rng: (nn.Sequential(nn.Sequential(*_linear(5, 4, rng=rng), nn.Tanh()), *_linear(4, 2, rng=rng)),
                                            (rng.normal(size=(3, 5)),)),
    "empty Sequential": lambda rng: (nn.Sequential(), (rng.normal(size=(3, 5)),)),
    "LSTM, 2 layers, bidirectional, batch_first, with hx": lambda rng: (
        nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64, rng=rng),
        (rng.normal(size=(2, 5, 3)), (rng.normal(size=(4, 2, 4)), rng.normal(size=(4, 2, 4))))),
    "GRU, narrow input fused into the recurrent product": lambda rng: (nn.GRU(1, 4, dtype=np.float64, rng=rng), (rng.normal(size=(5, 2, 1)),)),
    "RNN, wide input": lambda rng: (nn.RNN(12, 4, dtype=np.float64, rng=rng), (rng.normal(size=(5, 2, 12)),)),
    "LSTMCell with state": lambda rng: (nn.LSTMCell(3, 4, dtype=np.float64, rng=rng),
                                        (rng.normal(size=(2, 3)), (rng.normal(size=(2, 4)), rng.normal(size=(2, 4))))),
    "MLP model": lambda rng: (MLP(6, (5, 4), 3, dtype=np.float64, rng=rng), (rng.normal(size=(4, 6)),)),
    "CNN model (Conv2d first: computed, then dropped)": lambda rng: (
        CNN(1, 3, image_size=8, channels=(2, 3), hidden=5, dtype=np.float64, rng=rng), (rng.normal(size=(2, 1, 8, 8)),)),
    "Forecaster model": lambda rng: (Forecaster(hidden_size=4, window=6, dtype=np.float64, rng=rng), (rng.normal(size=(3, 6)),)),
}


def _random_like(tree, rng):
    if isinstance(tree, tuple):
        return tuple(_random_like(item, rng) for item in tree)
    return rng.normal(size=tree.shape).astype(tree.dtype)


def _leaves(tree):
    return [leaf for item in tree for leaf in _leaves(item)] if isinstance(tree, tuple) else [tree]


@pytest.mark.parametrize("case", INPUT_GRAD_CASES)
def test_backward_with_input_grad_false_skips_only_the_input_gradient(case):
    """backward(..., input_grad=False), as the training loop calls it for data (torch: requires_grad=False):
    None where the input's gradient would be, and every other gradient (parameters, initial states)
    bit-identical to a full backward."""
    rng = np.random.default_rng(0)
    module, inputs = INPUT_GRAD_CASES[case](rng)
    grads = _random_like(module(*inputs), rng)
    grads = grads if isinstance(grads, tuple) else (grads,)
    module.zero_grad()
    full = module.backward(*grads)
    expected = {name: param.grad.copy() for name, param in module.named_parameters()}
    module.zero_grad()
    module(*inputs)
    skipped = module.backward(*grads, input_grad=False)
    if isinstance(full, tuple):  # (dx, gradients of the initial states)
        assert full[0] is not None and skipped[0] is None
        for a, b in zip(_leaves(skipped[1]), _leaves(full[1]), strict=True):
            np.testing.assert_array_equal(a, b)
    else:
        assert full is not None and skipped is None
    for name, param in module.named_parameters():
        np.testing.assert_array_equal(param.grad, expected[name], err_msg=name)


# (scratch layer, torch layer) makers for the repr comparison, drawn with their arguments.
REPR_LAYERS = {
    "Linear": (st.tuples(st.integers(1, 9), st.integers(1, 9), st.booleans()),
               lambda a: nn.Linear(*a, rng=np.random.default_rng(0)), lambda a: torch.nn.Linear(*a)),
    "ReLU": (st.booleans(), lambda a: nn.ReLU(a), lambda a: torch.nn.ReLU(a)),
    "LeakyReLU": (st.tuples(st.sampled_from([0.01, 0.2, 1]), st.booleans()),
                  lambda a: nn.LeakyReLU(*a), lambda a: torch.nn.LeakyReLU(*a)),
    "ELU": (st.tuples(st.sampled_from([1.0, 0.5, 2]), st.booleans()), lambda a: nn.ELU(*a), lambda a: torch.nn.ELU(*a)),
    "GELU": (st.sampled_from(["none", "tanh"]), lambda a: nn.GELU(a), lambda a: torch.nn.GELU(a)),
    "Sigmoid": (st.none(), lambda a: nn.Sigmoid(), lambda a: torch.nn.Sigmoid()),
    "Tanh": (st.none(), lambda a: nn.Tanh(), lambda a: torch.nn.Tanh()),
    "SiLU": (st.booleans(), lambda a: nn.SiLU(a), lambda a: torch.nn.SiLU(a)),
    "Softplus": (st.tuples(st.sampled_from([1.0, 2]), st.sampled_from([20.0, 3])),
                 lambda a: nn.Softplus(*a), lambda a: torch.nn.Softplus(*a)),
    "Softmax": (st.integers(-2, 2), lambda a: nn.Softmax(dim=a), lambda a: torch.nn.Softmax(dim=a)),
    "LogSoftmax": (st.integers(-2, 2), lambda a: nn.LogSoftmax(dim=a), lambda a: torch.nn.LogSoftmax(dim=a)),
    "Dropout": (st.tuples(st.sampled_from([0.0, 0.1, 0.5, 1]), st.booleans()),
                lambda a: nn.Dropout(*a), lambda a: torch.nn.Dropout(*a)),
    "Flatten": (st.tuples(st.integers(0, 2), st.integers(-1, 3)), lambda a: nn.Flatten(*a), lambda a: torch.nn.Flatten(*a)),
    "Identity": (st.none(), lambda a: nn.Identity(), lambda a: torch.nn.Identity()),
}


@st.composite
def layer_pairs(draw):
    name = draw(st.sampled_from(sorted(REPR_LAYERS)))
    args_strategy, make, make_twin = REPR_LAYERS[name]
    args = draw(args_strategy)
    return make(args), make_twin(args)


@given(pairs=st.lists(layer_pairs(), min_size=0, max_size=6), nest=st.booleans())
def test_sequential_repr_matches_torch(pairs, nest):
    model = nn.Sequential(*[pair[0] for pair in pairs])
    twin = torch.nn.Sequential(*[pair[1] for pair in pairs])
    if nest:  # one level down, and a ModuleList, whose repeated entries torch prints once
        model = nn.Sequential(model, nn.ModuleList([p[0] for p in pairs] * 2), nn.ReLU())
        twin = torch.nn.Sequential(twin, torch.nn.ModuleList([p[1] for p in pairs] * 2), torch.nn.ReLU())
    assert repr(model) == repr(twin)


def test_nested_model_repr_matches_torch():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Net([4, 3, 3, 3], 2, rng=np.random.default_rng(0))

        def extra_repr(self):
            return "factor=2"

    class TorchScaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = TorchNet([4, 3, 3, 3], 2)

        def extra_repr(self):
            return "factor=2"

    assert repr(Scaled()) == repr(TorchScaled()).replace("TorchScaled", "Scaled").replace("TorchNet", "Net")


# --- load_state_dict ---------------------------------------------------------------------


@given(config=net_configs, seed=seeds)
def test_strict_load_names_missing_unexpected_and_misshaped_keys(config, seed):
    rng = np.random.default_rng(seed)
    model = Net(**config, rng=rng)
    before = model.state_dict()
    state = randomise(Net(**config, rng=rng), rng).state_dict()
    del state["stem.1.weight"]
    state["head.extra"] = np.zeros(1)
    state["head.weight"] = np.zeros((config["out"] + 1, config["sizes"][-1]), dtype=config["dtype"])
    for key in ("missing key(s): stem.1.weight", "unexpected key(s): head.extra", "size mismatch for head.weight"):
        with pytest.raises(ValueError, match=re.escape(key)):
            model.load_state_dict(state)
    for key, value in model.state_dict().items():  # a failed load changes nothing
        np.testing.assert_array_equal(value, before[key], err_msg=key)


def test_load_rejects_dtype_mismatch_without_casting():
    model = Net([4, 3], 2, dtype=np.float32, rng=np.random.default_rng(0))
    state = {key: value.astype(np.float64) if value.dtype == np.float32 else value for key, value in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"dtype mismatch for stem\.1\.weight: got float64, the model has float32"):
        model.load_state_dict(state)


@given(config=net_configs, seed=seeds, data=st.data())
def test_non_strict_load_returns_missing_and_unexpected_like_torch(config, seed, data):
    rng = np.random.default_rng(seed)
    model, twin = twins(config, rng)
    source = randomise(Net(**config, rng=rng), rng).state_dict()
    dropped = data.draw(st.lists(st.sampled_from(list(source)), unique=True))
    state = {key: value for key, value in source.items() if key not in dropped}
    state["not.a.key"] = np.zeros(2)
    missing, unexpected = model.load_state_dict(state, strict=False)
    torch_result = twin.load_state_dict({key: torch.from_numpy(value) for key, value in state.items()}, strict=False)
    assert (missing, unexpected) == (torch_result.missing_keys, torch_result.unexpected_keys)
    for key, value in model.state_dict().items():
        if key not in dropped:
            np.testing.assert_array_equal(value, source[key], err_msg=key)
    state[dropped[0] if dropped else "head.weight"] = np.zeros(7)
    with pytest.raises(ValueError, match="size mismatch"):  # strict=False still refuses a wrong shape, as torch does
        model.load_state_dict(state, strict=False)


@given(config=net_configs, seed=seeds)
def test_state_dicts_cross_between_twins(config, seed):
    rng = np.random.default_rng(seed)
    twin = TorchNet(**{**config, "dtype": torch_dtype(config["dtype"])})
    with torch.no_grad():
        for tensor in list(twin.parameters()) + [twin.scale]:
            tensor.normal_()  # torch's own init leaves scale at one; randomise everything
        twin.steps.fill_(5)
    model = Net(**config, rng=rng)
    model.load_state_dict({key: value.numpy() for key, value in twin.state_dict().items()})
    x = net_input(config, rng)
    rtol, atol = tolerance(config["dtype"], "forward", reduction=max(config["sizes"]) * len(config["sizes"]))
    assert_close(model(x), twin(torch.from_numpy(x)), "torch state in scratch: output", rtol, atol)

    randomise(model, rng)
    twin.load_state_dict({key: torch.from_numpy(value) for key, value in model.state_dict().items()}, strict=True)
    for key, value in twin.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), model.state_dict()[key], err_msg=key)
    assert_close(model(x), twin(torch.from_numpy(x)), "scratch state in torch: output", rtol, atol)


# --- checkpoints -------------------------------------------------------------------------


def assert_same_state(actual, expected):
    assert list(actual) == list(expected)
    for key in expected:
        assert actual[key].dtype == expected[key].dtype and actual[key].shape == expected[key].shape, key
        np.testing.assert_array_equal(actual[key], expected[key], err_msg=key)


@given(config=net_configs, seed=seeds, suffix=st.sampled_from(["model.npz", "model.ckpt", "model"]))
def test_checkpoint_round_trip_is_exact(tmp_path_factory, config, seed, suffix):
    rng = np.random.default_rng(seed)
    model = randomise(Net(**config, rng=rng), rng)
    path = tmp_path_factory.mktemp("ckpt") / suffix
    scratch.save(model.state_dict(), path)
    assert path.exists()  # the exact path, as torch.save writes it: no ".npz" appended
    assert_same_state(scratch.load(path), model.state_dict())
    with np.load(path, allow_pickle=False) as archive:  # plain NumPy reads it, no pickle
        assert_same_state({key: archive[key] for key in archive.files}, model.state_dict())
    fresh = Net(**config, rng=rng)
    fresh.load_state_dict(scratch.load(str(path)))
    assert_same_state(fresh.state_dict(), model.state_dict())


def test_checkpoint_to_and_from_a_file_object():
    model = randomise(Net([5, 4, 3], 2, rng=np.random.default_rng(1)), np.random.default_rng(2))
    buffer = io.BytesIO()
    scratch.save(model.state_dict(), buffer)
    buffer.seek(0)
    assert_same_state(scratch.load(buffer), model.state_dict())


@given(config=net_configs, seed=seeds)
def test_checkpoint_through_the_torch_twin_and_back_is_bit_identical(tmp_path_factory, config, seed):
    rng = np.random.default_rng(seed)
    model = randomise(Net(**config, rng=rng), rng)
    folder = tmp_path_factory.mktemp("twins")
    scratch.save(model.state_dict(), folder / "scratch.npz")
    twin = TorchNet(**{**config, "dtype": torch_dtype(config["dtype"])})
    twin.load_state_dict({key: torch.from_numpy(value) for key, value in scratch.load(folder / "scratch.npz").items()})
    scratch.save({key: value.numpy() for key, value in twin.state_dict().items()}, folder / "torch.npz")
    fresh = Net(**config, rng=rng)
    fresh.load_state_dict(scratch.load(folder / "torch.npz"))
    assert_same_state(fresh.state_dict(), model.state_dict())


def test_loading_a_missing_checkpoint_names_the_path(tmp_path):
    path = tmp_path / "nowhere.npz"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        scratch.load(path)


@pytest.mark.parametrize("value", [1.5, [1.0, 2.0], torch.zeros(2), np.array([object()])], ids=["float", "list", "tensor", "object"])
def test_saving_a_non_array_names_the_key(tmp_path, value):
    with pytest.raises(TypeError, match=r"every value must be an ndarray.*'head\.bias'"):
        scratch.save({"head.weight": np.zeros((2, 2)), "head.bias": value}, tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()


# --- bad input fails loudly, naming the argument and what came ---------------------------


def linear(dtype=np.float32):
    return nn.Linear(4, 3, dtype=dtype, rng=np.random.default_rng(0))


@given(lead=st.lists(st.integers(1, 4), max_size=3), width=st.integers(0, 9).filter(lambda n: n != 4), dtype=dtypes)
def test_linear_rejects_the_wrong_last_dimension(lead, width, dtype):
    x = np.zeros((*lead, width), dtype=dtype)
    with pytest.raises(ValueError, match=re.escape(f"Linear input: expected last dimension 4, got shape {x.shape}")):
        linear(dtype)(x)


@given(config=st.sampled_from([(np.float32, np.float64), (np.float64, np.float32)]))
def test_linear_never_casts_its_input(config):
    layer_dtype, input_dtype = (np.dtype(d) for d in config)
    with pytest.raises(TypeError, match=f"Linear input: expected dtype {layer_dtype} .*got {input_dtype}"):
        linear(layer_dtype)(np.zeros((2, 4), dtype=input_dtype))


@pytest.mark.parametrize("call, error, message", [
    (lambda: linear()(np.zeros((), np.float32)), ValueError, r"Linear input: expected last dimension 4, got shape \(\)"),
    (lambda: linear()(np.zeros((2, 4), np.int64)), TypeError, r"Linear input: .*float32 or float64.*got dtype int64"),
    (lambda: linear()([[0.0] * 4]), TypeError, r"Linear input: expected a numpy ndarray, got list"),
    (lambda: linear().backward(np.zeros((2, 3), np.float32)), RuntimeError, r"Linear\.backward called before forward"),
    (lambda: nn.ReLU().backward(np.zeros(3)), RuntimeError, r"ReLU\.backward called before forward"),
    (lambda: nn.Sequential(linear(), nn.ReLU()).backward(np.zeros((2, 3), np.float32)), RuntimeError, "before forward"),
    (lambda: nn.Dropout(1.5), ValueError, r"Dropout\(p\): expected a probability in \[0, 1\], got 1\.5"),
    (lambda: nn.Dropout(-0.1), ValueError, r"Dropout\(p\): .*got -0\.1"),
    (lambda: nn.Dropout(0.5, rng=0), TypeError, r"Dropout\(rng\): expected a numpy\.random\.Generator, got int"),
    (lambda: nn.Softmax(dim=None), TypeError, r"Softmax\(dim\): expected an int.*got None"),
    (lambda: nn.LogSoftmax(dim=1.0), TypeError, r"LogSoftmax\(dim\): expected an int.*got 1\.0"),
    (lambda: nn.Softmax(dim=2)(np.zeros((2, 2))), ValueError, r"Softmax: dim 2 is out of range for shape \(2, 2\)"),
    (lambda: nn.GELU("exact"), ValueError, r"approximate: expected 'none' or 'tanh', got 'exact'"),
    (lambda: nn.Linear(4, 3, device="cuda"), ValueError, r"device: .*got 'cuda'"),
    (lambda: nn.Linear(4, 3, dtype=int), TypeError, r"dtype: expected float32 or float64, got int64"),
    (lambda: nn.Linear(4, 3, dtype=np.float16), TypeError, r"dtype: expected float32 or float64, got float16"),
    (lambda: nn.Linear(4, 3, rng=42), TypeError, r"rng: expected a numpy\.random\.Generator, got int"),
    (lambda: setattr(linear(), "weight", np.zeros((3, 4), np.float32)), TypeError, r"ndarray of shape \(3, 4\).* as parameter 'weight'"),
    (lambda: setattr(linear(), "bias", nn.ReLU()), TypeError, r"as parameter 'bias'"),
    (lambda: nn.Sequential(linear(), 3), TypeError, r"Sequential: argument 1 is a int, not a Module"),
    (lambda: nn.Sequential(linear, nn.ReLU()), TypeError, r"Sequential: argument 0 is a function, not a Module"),
    (lambda: nn.ModuleList([nn.ReLU(), "relu"]), TypeError, r"ModuleList\.append: expected a Module, got str"),
    (lambda: nn.Parameter(np.zeros(2, np.int32)), TypeError, r"Parameter: expected a float32 or float64 ndarray, got ndarray .*int32"),
    (lambda: linear().train("no"), TypeError, r"train\(mode\): expected a bool, got str 'no'"),
    (lambda: nn.Dropout(0.5)(np.zeros(3), mask=np.zeros(2)), ValueError, r"Dropout mask: expected shape \(3,\)"),
], ids=lambda value: "" if callable(value) or isinstance(value, (type, str)) else str(value))
def test_bad_input_fails_loudly(call, error, message):
    with pytest.raises(error, match=message):
        call()


@given(shape=st.sampled_from([(2, 4), (5,), (1, 2, 3)]), dtype=st.sampled_from([np.float32, np.float64]), data=st.data())
def test_backward_rejects_a_gradient_of_the_wrong_shape_or_dtype(shape, dtype, data):
    layer = data.draw(st.sampled_from(["Linear", "Tanh", "Softmax", "Flatten", "Dropout"]))
    module = {"Linear": lambda: nn.Linear(shape[-1], 3, dtype=dtype, rng=np.random.default_rng(0)), "Tanh": nn.Tanh,
              "Softmax": lambda: nn.Softmax(dim=-1), "Flatten": lambda: nn.Flatten(0), "Dropout": lambda: nn.Dropout(0.3)}[layer]()
    y = module(np.ones(shape, dtype=dtype))
    wrong_shape = y.shape[:-1] + (y.shape[-1] + 1,)
    with pytest.raises(ValueError, match=re.escape(f"grad_output: expected shape {y.shape} (the forward output), got {wrong_shape}")):
        module.backward(np.zeros(wrong_shape, dtype=dtype))
    other = np.float64 if dtype == np.float32 else np.float32
    with pytest.raises(TypeError, match=f"grad_output: expected dtype {np.dtype(dtype)} .*got {np.dtype(other)}"):
        module.backward(np.zeros(y.shape, dtype=other))
    with pytest.raises(TypeError, match="grad_output: expected an ndarray, got list"):
        module.backward(y.tolist())


def test_subclass_that_skips_super_init_is_told_so():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.ReLU()

    with pytest.raises(AttributeError, match=r"Broken\.__init__ must call super\(\)\.__init__\(\) before assigning 'layer'"):
        Broken()
