"""RNN (tanh, relu), LSTM (with and without projections), GRU and their cells against torch.nn:
every layout, depth, direction, initial state, train and eval; dropout between layers against a
layer-by-layer torch build with the same masks; finite differences; state_dict keys; errors."""
import copy
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from scratch import nn
from twins.parity import assert_close, compare_modules, dtypes, finite_difference_check, randomise, seeds, tolerance, torch_dtype

# mode -> (scratch class, torch class, extra constructor arguments)
MODES = {
    "RNN_TANH": (nn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "RNN_RELU": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "LSTM": (nn.LSTM, torch.nn.LSTM, {}),
    "GRU": (nn.GRU, torch.nn.GRU, {}),
}
CELLS = {
    "RNNCell_TANH": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
    "RNNCell_RELU": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "LSTMCell": (nn.LSTMCell, torch.nn.LSTMCell, {}),
    "GRUCell": (nn.GRUCell, torch.nn.GRUCell, {}),
}
# torch notes, once, that oneDNN has no projected LSTM and it runs its own kernel instead: nothing to act on
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN:UserWarning")
SCALE = 0.7  # the spread of randomised weights: large enough to saturate some gates, small enough for relu


class ScratchFlat(nn.Module):
    """The (h_0, c_0) tuple as separate positional inputs, so the harness sees flat arrays."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, *states, **kwargs):
        return self.rnn(x, tuple(states) if states else None, **kwargs)

    def backward(self, *grads):
        return self.rnn.backward(*grads)


class TorchFlat(torch.nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, *states):
        return self.rnn(x, tuple(states) if states else None)


def wrap(scratch_module, torch_module, paired_state):
    """LSTMs take (h, c) as one argument; the harness passes flat inputs."""
    return (ScratchFlat(scratch_module), TorchFlat(torch_module)) if paired_state else (scratch_module, torch_module)


def draw_config(draw, modes=tuple(MODES)):
    config = dict(mode=draw(st.sampled_from(modes)), num_layers=draw(st.integers(1, 3)),
                  bidirectional=draw(st.booleans()), batch_first=draw(st.booleans()), bias=draw(st.booleans()),
                  seq_len=draw(st.integers(1, 6)), batch=draw(st.sampled_from([None, 1, 2, 3])),
                  input_size=draw(st.integers(1, 5)), hidden_size=draw(st.integers(1, 6)),
                  with_state=draw(st.booleans()))
    return redraw_proj_size(draw, config)


def redraw_proj_size(draw, config):
    """An LSTM's proj_size: 0 (no projection) or a size below hidden_size; torch refuses it elsewhere."""
    can_project = config["mode"] == "LSTM" and config["hidden_size"] > 1
    config["proj_size"] = draw(st.integers(0, config["hidden_size"] - 1)) if can_project else 0
    return config


def output_size(config):
    """The features of h and of each direction's output."""
    return config["proj_size"] or config["hidden_size"]


def build(config, dtype, rng, dropout=0.0):
    cls, torch_cls, extra = MODES[config["mode"]]
    args = dict(num_layers=config["num_layers"], bias=config["bias"], batch_first=config["batch_first"],
                dropout=dropout, bidirectional=config["bidirectional"], **extra)
    if config["proj_size"]:
        args["proj_size"] = config["proj_size"]
    module = randomise(cls(config["input_size"], config["hidden_size"], dtype=dtype, rng=rng, **args), rng, SCALE)
    twin = torch_cls(config["input_size"], config["hidden_size"], dtype=torch_dtype(dtype), **args)
    return module, twin


def make_inputs(config, dtype, rng):
    L, N, I, H = config["seq_len"], config["batch"], config["input_size"], config["hidden_size"]
    shape = (L, I) if N is None else (N, L, I) if config["batch_first"] else (L, N, I)
    x = rng.normal(size=shape).astype(dtype)
    if not config["with_state"]:
        return (x,)
    layers = config["num_layers"] * (2 if config["bidirectional"] else 1)
    sizes = (output_size(config), H)[:2 if config["mode"] == "LSTM" else 1]  # h, then an LSTM's c
    return (x, *(rng.normal(size=(layers, size) if N is None else (layers, N, size)).astype(dtype) for size in sizes))


def reduction(config):
    return (config["input_size"] + config["hidden_size"]) * config["seq_len"] * config["num_layers"]


@given(data=st.data(), dtype=dtypes, seed=seeds, training=st.booleans())
def test_recurrent_layer_matches_torch(data, dtype, seed, training):
    """Outputs, final states, input and initial-state gradients and every parameter gradient; in eval
    mode with dropout > 0 too (dropout is off there, as in torch)."""
    config = draw_config(data.draw)
    dropout = 0.0 if training or config["num_layers"] == 1 else data.draw(st.sampled_from([0.0, 0.3]))
    rng = np.random.default_rng(seed)
    module, twin = build(config, dtype, rng, dropout)
    module.train(training), twin.train(training)
    inputs = make_inputs(config, dtype, rng)
    module, twin = wrap(module, twin, config["mode"] == "LSTM" and config["with_state"])
    compare_modules(module, twin, inputs, rng, f"{config['mode']} {config}", reduction=reduction(config))


def projected_config(draw):
    """An LSTM with proj_size in [1, hidden_size): every other argument drawn as usual."""
    config = draw_config(draw, ("LSTM",))
    config["hidden_size"] = draw(st.integers(2, 6))
    config["proj_size"] = draw(st.integers(1, config["hidden_size"] - 1))
    return config


@given(data=st.data(), dtype=dtypes, seed=seeds, training=st.booleans())
def test_lstm_with_projections_matches_torch(data, dtype, seed, training):
    """h = W_hr (o tanh(c)): output and h_n with proj_size features, c_n with hidden_size, and every
    gradient, weight_hr_l{k}[_reverse] included, in every layout, depth and direction."""
    config = projected_config(data.draw)
    rng = np.random.default_rng(seed)
    module, twin = build(config, dtype, rng)
    module.train(training), twin.train(training)
    inputs = make_inputs(config, dtype, rng)
    module, twin = wrap(module, twin, config["with_state"])
    output, (h, c) = compare_modules(module, twin, inputs, rng, f"LSTM {config}", reduction=reduction(config))
    directions = 2 if config["bidirectional"] else 1
    assert output.shape[-1] == directions * config["proj_size"]
    assert h.shape[-1] == config["proj_size"] and c.shape[-1] == config["hidden_size"]


@settings(max_examples=30)
@given(data=st.data(), seed=seeds)
def test_lstm_with_projections_finite_differences(data, seed):
    """Torch-free oracle of backpropagation through the projection, across steps, layers and directions."""
    config = projected_config(data.draw)
    config.update(num_layers=data.draw(st.integers(1, 2)), seq_len=data.draw(st.integers(1, 4)), with_state=True,
                  input_size=data.draw(st.integers(1, 3)))
    rng = np.random.default_rng(seed)
    module, _ = build(config, np.float64, rng)
    finite_difference_check(ScratchFlat(module), make_inputs(config, np.float64, rng), rng, max_entries=24)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_projection_state_dict_init_and_repr_match_torch(bidirectional):
    module = nn.LSTM(3, 8, num_layers=2, proj_size=5, bidirectional=bidirectional, rng=np.random.default_rng(0))
    twin = torch.nn.LSTM(3, 8, num_layers=2, proj_size=5, bidirectional=bidirectional)
    ours, theirs = module.state_dict(), twin.state_dict()
    assert [(key, value.shape) for key, value in ours.items()] == [(key, tuple(value.shape)) for key, value in theirs.items()]
    assert ours["weight_hr_l1"].shape == (5, 8) and ours["weight_ih_l1"].shape == (32, 5 * (2 if bidirectional else 1))
    assert ours["weight_hh_l0"].shape == (32, 5)
    values = np.concatenate([value.ravel() for value in ours.values()])
    assert np.abs(values).max() <= 1 / np.sqrt(8) and values.std() > 0.15  # every weight U(-1/sqrt(H), 1/sqrt(H)), W_hr too
    assert repr(module) == repr(twin)


def layerwise_torch(module, config, dtype, x, states, masks):
    """torch cannot take a dropout mask: build the stack from one-layer torch modules with the same
    weights and multiply each layer's output by scratch's mask. Returns output, final states, leaves."""
    _, torch_cls, extra = MODES[config["mode"]]
    D = 2 if config["bidirectional"] else 1
    batch_first, batched = config["batch_first"], x.ndim == 3
    tx = torch.from_numpy(x.copy()).requires_grad_()
    tstates = [torch.from_numpy(s.copy()).requires_grad_() for s in states]
    state_dict, params, layer_input, finals = module.state_dict(), {}, tx, [[] for _ in range(2 if config["mode"] == "LSTM" else 1)]
    for layer in range(config["num_layers"]):
        in_size = config["input_size"] if layer == 0 else D * output_size(config)
        projection = {"proj_size": config["proj_size"]} if config["proj_size"] else {}
        one = torch_cls(in_size, config["hidden_size"], bias=config["bias"], batch_first=batch_first,
                        bidirectional=config["bidirectional"], dtype=torch_dtype(dtype), **extra, **projection)
        one.load_state_dict({key.replace(f"_l{layer}", "_l0"): torch.from_numpy(value)
                             for key, value in state_dict.items() if f"_l{layer}" in key}, strict=True)
        for key, param in one.named_parameters():
            params[key.replace("_l0", f"_l{layer}")] = param
        hx = [s[layer * D:(layer + 1) * D] for s in tstates]
        hx = None if not hx else tuple(hx) if len(hx) == 2 else hx[0]
        out, final = one(layer_input, hx)
        for store, value in zip(finals, final if isinstance(final, tuple) else (final,)):
            store.append(value)
        layer_input = out * torch.from_numpy(masks[layer]) if layer < len(masks) else out
    finals = [torch.cat(f, dim=0) for f in finals]
    return layer_input, finals, tx, tstates, params, batched


@settings(max_examples=40)
@given(data=st.data(), dtype=dtypes, seed=seeds, p=st.sampled_from([0.2, 0.5]), given_masks=st.booleans())
def test_dropout_between_layers_matches_layerwise_torch(data, dtype, seed, p, given_masks):
    config = draw_config(data.draw)
    config["num_layers"] = data.draw(st.integers(2, 3))
    rng = np.random.default_rng(seed)
    module, _ = build(config, dtype, rng, p)
    inputs = make_inputs(config, dtype, rng)
    x, states = inputs[0], inputs[1:]
    hx = None if not states else tuple(states) if len(states) == 2 else states[0]
    kwargs = {}
    if given_masks:
        out_shape = module(x, hx)[0].shape  # a first pass for the output's shape
        kwargs["dropout_masks"] = [nn.functional.dropout_mask(out_shape, p, rng, np.dtype(dtype))
                                   for _ in range(config["num_layers"] - 1)]
    module.zero_grad()
    output, final = module(x, hx, **kwargs)
    masks = module.dropout_masks
    if given_masks:
        assert all(a is b or np.array_equal(a, b) for a, b in zip(masks, kwargs["dropout_masks"]))
    assert len(masks) == config["num_layers"] - 1 and all(m.shape == output.shape for m in masks)
    tout, tfinals, tx, tstates, tparams, _ = layerwise_torch(module, config, dtype, x, states, masks)
    red = reduction(config)
    finals = final if isinstance(final, tuple) else (final,)
    for index, (a, b) in enumerate(zip((output, *finals), (tout, *tfinals))):
        assert_close(a, b, f"dropout output[{index}]", *tolerance(dtype, "forward", red))
    doutput = rng.normal(size=output.shape).astype(dtype)
    dfinals = [rng.normal(size=f.shape).astype(dtype) for f in finals]
    grads = module.backward(doutput, tuple(dfinals) if len(dfinals) == 2 else dfinals[0])
    torch.autograd.backward([tout, *tfinals], [torch.from_numpy(g) for g in (doutput, *dfinals)])
    rtol, atol = tolerance(dtype, "grad", red)
    dx = grads if not states else grads[0]
    assert_close(dx, tx.grad, "dropout grad of input", rtol, atol)
    if states:
        dstates = grads[1] if len(states) == 2 else (grads[1],)
        for index, (a, b) in enumerate(zip(dstates, tstates)):
            assert_close(a, b.grad, f"dropout grad of state {index}", rtol, atol)
    for name, param in module.named_parameters():
        assert_close(param.grad, tparams[name].grad, f"dropout grad of {name}", rtol, atol)


def test_dropout_masks_come_from_rng_only_in_training():
    x = np.random.default_rng(0).normal(size=(4, 3, 2))
    first, second = (nn.GRU(2, 5, num_layers=3, dropout=0.5, dtype=np.float64, rng=np.random.default_rng(7))
                     for _ in range(2))
    out_a, out_b = first(x)[0], second(x)[0]
    np.testing.assert_array_equal(out_a, out_b)  # same seed, same masks, same result
    assert len(first.dropout_masks) == 2 and {0.0, 2.0} >= set(np.unique(first.dropout_masks[0]))
    first.eval()
    first(x)
    assert first.dropout_masks is None


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=30)
@given(data=st.data(), seed=seeds, training=st.booleans())
def test_recurrent_layer_finite_differences(mode, data, seed, training):
    """Torch-free oracle on every class, through both directions, two layers, the initial state
    and (in training) dropout with fixed masks."""
    config = draw_config(data.draw, (mode,))
    config.update(num_layers=data.draw(st.integers(1, 2)), seq_len=data.draw(st.integers(1, 4)), with_state=True,
                  hidden_size=data.draw(st.integers(1, 4)), input_size=data.draw(st.integers(1, 3)))
    redraw_proj_size(data.draw, config)
    rng = np.random.default_rng(seed)
    module, _ = build(config, np.float64, rng, dropout=0.4 if config["num_layers"] > 1 else 0.0)
    module.train(training)
    inputs = make_inputs(config, np.float64, rng)
    module(inputs[0], inputs[1] if mode != "LSTM" else tuple(inputs[1:]))
    kwargs = {"dropout_masks": module.dropout_masks} if module.dropout_masks else {}
    finite_difference_check(ScratchFlat(module) if mode == "LSTM" else module, inputs, rng, max_entries=24,
                            forward_kwargs=kwargs)


@pytest.mark.parametrize("mode", [*MODES, "LSTM_PROJ"])
@settings(max_examples=25)
@given(data=st.data(), seed=seeds)
def test_fast_kernels_equal_the_naive_formulas(mode, data, seed):
    """rnn.py's kernels (gates fused and reordered, sigmoid rows halved, factors precomputed for all
    steps, out= buffers reused between calls, a narrow input inside the recurrent product) against
    _naive_direction, the plain per-step formulas beside them: both directions, with and without
    bias, inputs narrow (fused) and wide (projected apart), in float64 to rounding error."""
    from scratch.nn.rnn import _FUSED_INPUT_MAX, _naive_direction
    cls, _, extra = MODES[mode.removesuffix("_PROJ")]
    T, N, I, H = (data.draw(st.integers(1, 5)), data.draw(st.integers(1, 3)),
                  data.draw(st.sampled_from([1, 3, _FUSED_INPUT_MAX, _FUSED_INPUT_MAX + 3])), data.draw(st.integers(2, 5)))
    bias, rng = data.draw(st.booleans()), np.random.default_rng(seed)
    P = data.draw(st.integers(1, H - 1)) if mode == "LSTM_PROJ" else 0
    projection = {"proj_size": P} if P else {}
    module = randomise(cls(I, H, bias=bias, bidirectional=True, dtype=np.float64, rng=rng, **extra, **projection), rng, SCALE)
    out, paired = P or H, mode.startswith("LSTM")
    x, dy = rng.normal(size=(T, N, I)), rng.normal(size=(T, N, 2 * out))
    states = [rng.normal(size=(2, N, size)) for size in (out, H)[:2 if paired else 1]]
    dfinals = [rng.normal(size=state.shape) for state in states]
    for _ in range(2):  # the second call reuses the first one's buffers
        module.zero_grad()
        output, finals = module(x, tuple(states) if paired else states[0])
        dx, dstates = module.backward(dy, tuple(dfinals) if paired else dfinals[0])
    finals, dstates = (finals, dstates) if paired else ((finals,), (dstates,))
    expected_dx = 0
    for direction in range(2):
        suffix, time = ("_reverse", slice(None, None, -1)) if direction else ("", slice(None))
        weights = {stem: getattr(module, stem + "_l0" + suffix, None) for stem in
                   ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")}
        weights = {stem: None if p is None else p.data for stem, p in weights.items()}
        features = slice(direction * out, (direction + 1) * out)
        outs, naive_finals, naive_dx, naive_dstates, grads = _naive_direction(
            mode.removesuffix("_PROJ"), x[time], [s[direction] for s in states], weights, dy[time][:, :, features],
            [d[direction] for d in dfinals])
        expected_dx = expected_dx + naive_dx[time]
        rtol, atol = tolerance(np.float64, "grad")
        assert_close(output[:, :, features], outs[time], f"output, direction {direction}", rtol, atol)
        for index, (final, naive) in enumerate(zip(finals, naive_finals)):
            assert_close(final[direction], naive, f"final state {index}, direction {direction}", rtol, atol)
        for index, (dstate, naive) in enumerate(zip(dstates, naive_dstates)):
            assert_close(dstate[direction], naive, f"grad of state {index}, direction {direction}", rtol, atol)
        for stem, p in weights.items():
            if p is not None:
                assert_close(getattr(module, stem + "_l0" + suffix).grad, grads[stem], f"grad of {stem}{suffix}", rtol, atol)
    assert_close(dx, expected_dx, "grad of input", *tolerance(np.float64, "grad"))


@pytest.mark.parametrize("mode", MODES)
def test_a_copy_made_after_a_call_computes_as_the_original(mode):
    """Working arrays are kept between calls; a deep copy (TransformerEncoder clones its layers so) or a
    pickle must not carry them, or the views cached with them would stop pointing into its buffers."""
    cls, _, extra = MODES[mode]
    rng = np.random.default_rng(0)
    module = cls(2, 3, num_layers=2, bidirectional=True, dtype=np.float64, rng=rng, **extra)
    x, dy = rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2, 6))
    module(rng.normal(size=x.shape))  # leaves working arrays of this shape behind
    results = []
    for twin in (module, copy.deepcopy(module), pickle.loads(pickle.dumps(module))):
        twin.zero_grad()
        output = twin(x)[0]
        results.append((output, twin.backward(dy), *(p.grad for p in twin.parameters())))
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", CELLS)
@given(batch=st.sampled_from([None, 1, 4]), input_size=st.integers(1, 6), hidden_size=st.integers(1, 6),
       bias=st.booleans(), with_state=st.booleans(), dtype=dtypes, seed=seeds)
def test_cell_matches_torch(kind, batch, input_size, hidden_size, bias, with_state, dtype, seed):
    cls, torch_cls, extra = CELLS[kind]
    rng = np.random.default_rng(seed)
    cell = randomise(cls(input_size, hidden_size, bias=bias, dtype=dtype, rng=rng, **extra), rng, SCALE)
    twin = torch_cls(input_size, hidden_size, bias=bias, dtype=torch_dtype(dtype), **extra)
    lead = () if batch is None else (batch,)
    inputs = (rng.normal(size=(*lead, input_size)).astype(dtype),)
    if with_state:
        inputs += tuple(rng.normal(size=(*lead, hidden_size)).astype(dtype) for _ in range(2 if kind == "LSTMCell" else 1))
    cell, twin = wrap(cell, twin, kind == "LSTMCell" and with_state)
    compare_modules(cell, twin, inputs, rng, kind, reduction=input_size + hidden_size)


@pytest.mark.parametrize("kind", CELLS)
@settings(max_examples=30)
@given(batch=st.sampled_from([None, 3]), seed=seeds)
def test_cell_finite_differences(kind, batch, seed):
    cls, _, extra = CELLS[kind]
    rng = np.random.default_rng(seed)
    cell = randomise(cls(3, 4, dtype=np.float64, rng=rng, **extra), rng, SCALE)
    lead = () if batch is None else (batch,)
    inputs = (rng.normal(size=(*lead, 3)), *(rng.normal(size=(*lead, 4)) for _ in range(2 if kind == "LSTMCell" else 1)))
    finite_difference_check(ScratchFlat(cell) if kind == "LSTMCell" else cell, inputs, rng)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_state_dict_and_init_match_torch(mode, bidirectional):
    cls, torch_cls, extra = MODES[mode]
    module = cls(3, 8, num_layers=2, bidirectional=bidirectional, rng=np.random.default_rng(0), **extra)
    twin = torch_cls(3, 8, num_layers=2, bidirectional=bidirectional, **extra)
    ours, theirs = module.state_dict(), twin.state_dict()
    assert list(ours) == list(theirs)
    assert all(ours[key].shape == tuple(theirs[key].shape) and ours[key].dtype == np.float32 for key in ours)
    values = np.concatenate([value.ravel() for value in ours.values()])
    assert np.abs(values).max() <= 1 / np.sqrt(8) and values.std() > 0.15  # U(-1/sqrt(H), 1/sqrt(H)): std 0.204
    assert repr(module) == repr(twin)
    for cell_kind in CELLS:
        cell_cls, torch_cell_cls, cell_extra = CELLS[cell_kind]
        assert list(cell_cls(3, 8, **cell_extra).state_dict()) == list(torch_cell_cls(3, 8, **cell_extra).state_dict())


def test_lstm_gate_order_is_i_f_g_o():
    """With only the forget gate's bias large, c_t = c_{t-1} + i g: the cell state carries over."""
    lstm = nn.LSTM(1, 1, dtype=np.float64, rng=np.random.default_rng(0))
    for param in lstm.parameters():
        param.data[...] = 0
    lstm.bias_ih_l0.data[...] = [0, 50, 0, 0]  # f = sigmoid(50) = 1, i = o = 1/2, g = 0
    c0 = np.full((1, 1, 1), 0.75)
    _, (h, c) = lstm(np.zeros((3, 1, 1)), (np.zeros((1, 1, 1)), c0))
    np.testing.assert_allclose(c, c0)
    np.testing.assert_allclose(h, 0.5 * np.tanh(0.75))


def test_gru_reset_gate_multiplies_b_hn():
    gru, twin = nn.GRU(2, 3, dtype=np.float64, rng=np.random.default_rng(1)), torch.nn.GRU(2, 3, dtype=torch.float64)
    gru.bias_hh_l0.data[6:] = 5.0  # b_hn inside r * (W_hn h + b_hn): any other placement gives other outputs
    twin.load_state_dict({key: torch.from_numpy(value) for key, value in gru.state_dict().items()})
    x = np.random.default_rng(2).normal(size=(4, 2, 2))
    np.testing.assert_allclose(gru(x)[0], twin(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-12)


def _lstm(**kwargs):
    return nn.LSTM(3, 4, dtype=np.float64, rng=np.random.default_rng(0), **kwargs)


@pytest.mark.parametrize("call, error, match", [
    (lambda: _lstm()(np.zeros((5, 2, 4))), ValueError, r"LSTM input .*expected last dimension 3, got shape \(5, 2, 4\)"),
    (lambda: _lstm()(np.zeros((5, 2, 3, 1))), ValueError, r"LSTM input .*expected an array of rank \(2, 3\)"),
    (lambda: _lstm()(np.zeros((0, 2, 3))), ValueError, r"sequence length > 0"),
    (lambda: _lstm()(np.zeros((5, 2, 3), np.float32)), TypeError, r"expected dtype float64 .*got float32"),
    (lambda: _lstm()(np.zeros((5, 2, 3)), np.zeros((1, 2, 4))), TypeError, r"LSTM hx: expected a tuple \(h_0, c_0\)"),
    (lambda: _lstm(num_layers=2)(np.zeros((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((2, 2, 4)))), ValueError,
     r"LSTM h_0: expected shape \(2, 2, 4\) .*got \(1, 2, 4\)"),
    (lambda: _lstm()(np.zeros((5, 3)), (np.zeros((1, 1, 4)), np.zeros((1, 1, 4)))), ValueError,
     r"h_0: expected shape \(1, 4\) .*unbatched"),
    (lambda: nn.GRU(3, 4, dtype=np.float64)(np.zeros((5, 2, 3)), np.zeros((1, 2, 4), np.float32)), TypeError,
     r"GRU h_0: expected dtype float64"),
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, r"nonlinearity: expected 'tanh' or 'relu', got 'sigmoid'"),
    (lambda: nn.GRU(3, 4, num_layers=2, dropout=1.5), ValueError, r"dropout: expected a number in \[0, 1\]"),
    (lambda: nn.GRU(3, 0), ValueError, r"GRU\(hidden_size\): expected a positive int, got 0"),
    (lambda: nn.RNN(3, 4, device="cuda"), ValueError, r"device"),
    (lambda: _lstm().backward(np.zeros((5, 2, 4))), RuntimeError, r"backward called before forward"),
    (lambda: nn.GRU(3, 4, num_layers=2, dropout=0.5, dtype=np.float64)(np.zeros((5, 2, 3)), dropout_masks=[np.ones((5, 2, 3))]),
     ValueError, r"dropout_masks: expected 1 arrays of shape \(5, 2, 4\)"),
    (lambda: nn.LSTMCell(3, 4, dtype=np.float64)(np.zeros((2, 5))), ValueError, r"LSTMCell input .*expected last dimension 3"),
    (lambda: nn.GRUCell(3, 4, dtype=np.float64)(np.zeros((2, 3)), np.zeros((3, 4))), ValueError,
     r"GRUCell hx: expected shape \(2, 4\) .*got \(3, 4\)"),
    (lambda: nn.RNNCell(3, 4, dtype=np.float64)(np.zeros((1, 2, 3))), ValueError, r"RNNCell input .*rank \(1, 2\)"),
])
def test_bad_input_is_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_backward_checks_gradients_and_accepts_none():
    lstm = _lstm(num_layers=2, bidirectional=True)
    x = np.random.default_rng(0).normal(size=(5, 2, 3))
    output, (h, c) = lstm(x)
    with pytest.raises(ValueError, match=r"gradient of output: expected shape \(5, 2, 8\)"):
        lstm.backward(np.zeros((5, 2, 4)), None)
    with pytest.raises(ValueError, match=r"gradient of c_n: expected shape \(4, 2, 4\)"):
        lstm.backward(None, (None, np.zeros((2, 2, 4))))
    dc = np.random.default_rng(1).normal(size=c.shape)
    dx = lstm.backward(None, (None, dc))  # only c_n gets a gradient; no hx given: dx alone
    assert dx.shape == x.shape and np.abs(dx).max() > 0
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.5)


def test_rnn_benchmark_cases_run():
    from benchmarks import bench_forecasting, core
    cases = bench_forecasting.cases(np.float32, quick=True, seed=0)
    assert [case.name for case in cases][:2] == ["LSTM(1, 32)", "LSTM(1, 128)"]
    result = core.run_case(cases[0], repeats=1, warmup=0, threads=1)
    assert result.times_ms["scratch"] > 0 and result.times_ms["torch"] > 0


def test_lstm_cell_backward_takes_the_gradient_pair_either_way():
    cell = nn.LSTMCell(3, 4, dtype=np.float64, rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    x, dh, dc = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    cell(x)
    np.testing.assert_array_equal(cell.backward(dh, dc), cell.backward((dh, dc)))
