"""Every scratch loss against torch.nn's: forward, backward under random upstream gradients,
float64 finite differences, and the errors that bad input must raise."""
import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from scratch import nn
from scratch.nn import functional as F
from twins.parity import assert_close, dtypes, finite_difference_check, seeds, to_torch, tolerance

REDUCTIONS = ("none", "mean", "sum")
POINTWISE = ("MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss")
pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # torch's KLDivLoss notice


def twin_pair(name, **kwargs):
    """The scratch loss and its torch twin from the same keyword arguments (arrays become tensors)."""
    tensors = {k: to_torch(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**tensors)


@st.composite
def pointwise_cases(draw, dtype, name=None):
    """(name, constructor kwargs, input, target) for the element-wise losses."""
    name = name or draw(st.sampled_from(POINTWISE))
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    rng = np.random.default_rng(draw(seeds))
    kwargs = {"reduction": draw(st.sampled_from(REDUCTIONS + (("batchmean",) if name == "KLDivLoss" else ())))}
    x, y = rng.normal(0, 2, shape), rng.normal(0, 2, shape)
    if name == "HuberLoss":
        kwargs["delta"] = draw(st.floats(0.1, 3.0))
    elif name == "SmoothL1Loss":
        kwargs["beta"] = draw(st.sampled_from([0.0, 1.0]) | st.floats(0.1, 3.0))
    elif name in ("BCELoss", "BCEWithLogitsLoss"):
        if name == "BCELoss":
            x = rng.uniform(0.02, 0.98, shape)  # inside (0, 1), away from torch's clamps
        y = rng.uniform(0, 1, shape)  # soft labels
        weight_shape = draw(st.sampled_from([None, shape, shape[-1:]]))
        if weight_shape is not None:
            kwargs["weight"] = rng.uniform(0.2, 2.0, weight_shape).astype(dtype)
        if name == "BCEWithLogitsLoss" and draw(st.booleans()):
            kwargs["pos_weight"] = rng.uniform(0.2, 3.0, shape[-1:]).astype(dtype)
    elif name == "KLDivLoss":
        kwargs["log_target"] = draw(st.booleans())
        x = F.log_softmax(x, -1)
        y = F.log_softmax(y, -1) if kwargs["log_target"] else np.where(rng.random(shape) < 0.2, 0.0, rng.random(shape))
    return name, kwargs, x.astype(dtype), y.astype(dtype)


@st.composite
def class_cases(draw, dtype, name=None):
    """(name, constructor kwargs, input, target) for CrossEntropyLoss and NLLLoss: batched or
    unbatched, spatial dims, class weights, ignore_index present, smoothing, probability targets."""
    name = name or draw(st.sampled_from(["CrossEntropyLoss", "NLLLoss"]))
    num_classes = draw(st.integers(1, 6))
    if draw(st.integers(0, 4)) == 0:
        shape = (num_classes,)
    else:
        shape = (draw(st.integers(1, 5)), num_classes, *draw(st.lists(st.integers(1, 3), max_size=2)))
    dim = 1 if len(shape) > 1 else 0
    rng = np.random.default_rng(draw(seeds))
    kwargs = {"reduction": draw(st.sampled_from(REDUCTIONS))}
    if draw(st.booleans()):
        kwargs["weight"] = rng.uniform(0.2, 2.0, num_classes).astype(dtype)
    x = rng.normal(0, 2, shape).astype(dtype)
    if name == "CrossEntropyLoss":
        kwargs["label_smoothing"] = draw(st.sampled_from([0.0, 0.1]) | st.floats(0.0, 1.0))
        if draw(st.booleans()):
            probs = rng.random(shape)
            return name, kwargs, x, (probs / probs.sum(axis=dim, keepdims=True)).astype(dtype)
    ignore_index = draw(st.sampled_from([-100, -1, num_classes + 2]) | st.integers(0, num_classes - 1))
    kwargs["ignore_index"] = ignore_index
    target = rng.integers(0, num_classes, shape[:dim] + shape[dim + 1:])
    target = np.where(rng.random(target.shape) < 0.3, ignore_index, target)
    return name, kwargs, x, target


def compare_with_torch(name, kwargs, x, target, rng):
    criterion, twin = twin_pair(name, **kwargs)
    loss = criterion(x, target)
    tx = to_torch(x, requires_grad=True)
    tloss = twin(tx, to_torch(target))
    assert isinstance(loss, np.ndarray) and loss.dtype == x.dtype and loss.shape == tuple(tloss.shape)
    assert_close(loss, tloss, f"{name} loss", *tolerance(x.dtype, "forward", x.size))
    grad = rng.uniform(-2, 2, loss.shape).astype(x.dtype)  # random, never all-ones, for every reduction
    dx = criterion.backward(grad)
    tloss.backward(to_torch(grad))
    assert dx.dtype == x.dtype
    assert_close(dx, tx.grad, f"{name} grad of input", *tolerance(x.dtype, "grad", x.size))


class WithTarget(nn.Module):
    """A loss with its target fixed, so that the harness's finite differences see one input."""

    def __init__(self, criterion, target):
        super().__init__()
        self.criterion, self.target = criterion, target

    def forward(self, input):
        return self.criterion(input, self.target)

    def backward(self, grad):
        return self.criterion.backward(np.asarray(grad))


@given(dtype=dtypes, data=st.data(), seed=seeds)
def test_pointwise_losses_match_torch(dtype, data, seed):
    compare_with_torch(*data.draw(pointwise_cases(dtype)), np.random.default_rng(seed))


@given(dtype=dtypes, data=st.data(), seed=seeds)
def test_class_losses_match_torch(dtype, data, seed):
    compare_with_torch(*data.draw(class_cases(dtype)), np.random.default_rng(seed))


@given(data=st.data(), seed=seeds)
def test_class_index_cross_entropy_with_everything_matches_torch(data, seed):
    """Weights, smoothing and ignored targets together, where the normalisation is subtle."""
    name, kwargs, x, target = data.draw(class_cases(np.float64, "CrossEntropyLoss"))
    assume(target.dtype.kind == "i")
    kwargs.update(weight=np.random.default_rng(seed).uniform(0.2, 2.0, x.shape[min(1, x.ndim - 1)]),
                  label_smoothing=0.3, reduction="mean")
    compare_with_torch(name, kwargs, x, target, np.random.default_rng(seed))


@pytest.mark.parametrize("name", POINTWISE)
@given(data=st.data(), seed=seeds)
def test_pointwise_losses_finite_differences(name, data, seed):
    _, kwargs, x, target = data.draw(pointwise_cases(np.float64, name))
    finite_difference_check(WithTarget(getattr(nn, name)(**kwargs), target), (x,), np.random.default_rng(seed))


@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss"])
@given(data=st.data(), seed=seeds)
def test_class_losses_finite_differences(name, data, seed):
    _, kwargs, x, target = data.draw(class_cases(np.float64, name))
    assume(target.dtype.kind == "f" or (target != kwargs["ignore_index"]).any())  # an all-ignored mean is NaN
    finite_difference_check(WithTarget(getattr(nn, name)(**kwargs), target), (x,), np.random.default_rng(seed))


@pytest.mark.parametrize("name", POINTWISE + ("CrossEntropyLoss", "NLLLoss"))
def test_backward_without_argument_seeds_one_like_loss_backward(name):
    _, kwargs, x, target = _fixed_case(name, np.random.default_rng(0))
    criterion, twin = twin_pair(name, **kwargs)
    criterion(x, target)
    tx = to_torch(x, requires_grad=True)
    twin(tx, to_torch(target)).backward()
    assert_close(criterion.backward(), tx.grad, f"{name} backward()", *tolerance(np.float64, "grad"))
    np.testing.assert_array_equal(criterion.backward(), criterion.backward(np.ones(())))


def _fixed_case(name, rng):
    x = rng.uniform(0.1, 0.9, (4, 3))
    if name in ("CrossEntropyLoss", "NLLLoss"):
        return name, {"weight": rng.uniform(0.5, 2, 3)}, x, np.array([0, 2, -100, 1])
    return name, {}, x, rng.uniform(0, 1, (4, 3))


def test_all_targets_ignored_gives_nan_mean_and_zero_gradient_like_torch():
    x, target = np.random.default_rng(1).normal(size=(3, 4)), np.full(3, -100)
    compare_with_torch("CrossEntropyLoss", {"label_smoothing": 0.2}, x, target, np.random.default_rng(2))
    compare_with_torch("NLLLoss", {}, x, target, np.random.default_rng(2))


def test_weights_and_legacy_arguments_follow_torch():
    weight = np.array([1.0, 2.0])
    assert list(nn.CrossEntropyLoss(weight).state_dict()) == list(torch.nn.CrossEntropyLoss(torch.tensor(weight)).state_dict())
    pair = nn.BCEWithLogitsLoss(weight, pos_weight=weight).state_dict()
    assert list(pair) == list(torch.nn.BCEWithLogitsLoss(torch.tensor(weight), pos_weight=torch.tensor(weight)).state_dict())
    assert nn.MSELoss(size_average=False).reduction == "sum" and nn.L1Loss(reduce=False).reduction == "none"


X = np.zeros((3, 4))
BAD_INPUTS = [
    (lambda: nn.MSELoss()(X, np.zeros((3, 1))), ValueError, r"target: expected shape \(3, 4\).*nothing is broadcast.*got \(3, 1\)"),
    (lambda: nn.L1Loss()(X.astype(np.float32), X), TypeError, r"target: expected dtype float32.*got float64"),
    (lambda: nn.KLDivLoss()(X, X[0]), ValueError, r"target: expected shape \(3, 4\)"),
    (lambda: nn.MSELoss()([0.0], X), TypeError, r"input: expected a float32 or float64 ndarray, got list"),
    (lambda: nn.L1Loss(reduction="avg"), ValueError, r"reduction: expected one of 'none', 'mean', 'sum', got 'avg'"),
    (lambda: nn.MSELoss(reduction="batchmean"), ValueError, r"reduction: expected one of .*got 'batchmean'"),
    (lambda: F.cross_entropy(X, np.zeros(3, dtype=int), reduction="avg"), ValueError, r"reduction: expected one of"),
    (lambda: nn.CrossEntropyLoss()(X, np.array([0, 4, 1])), ValueError, r"class indices in \[0, 4\) or ignore_index=-100, got 4"),
    (lambda: nn.NLLLoss()(X, np.array([0, -1, 1])), ValueError, r"class indices in \[0, 4\).*got -1"),
    (lambda: nn.CrossEntropyLoss()(X, np.array([0.0, 1.0, 2.0])), TypeError, r"integer class indices or float class probabilities of shape \(3, 4\), got dtype float64"),
    (lambda: nn.NLLLoss()(X, np.array([0.0, 1.0, 2.0])), TypeError, r"target: expected integer class indices, got dtype float64"),
    (lambda: nn.CrossEntropyLoss()(X, np.array([True, False, True])), TypeError, r"integer class indices.*got dtype bool"),
    (lambda: nn.CrossEntropyLoss()(X, np.zeros((3, 1), dtype=int)), ValueError, r"class indices of shape \(3,\) for input of shape \(3, 4\).*got \(3, 1\)"),
    (lambda: nn.CrossEntropyLoss()(X, X.astype(np.float32)), TypeError, r"target \(class probabilities\): expected dtype float64"),
    (lambda: nn.CrossEntropyLoss()(np.zeros(()), np.array(0)), ValueError, r"input: expected \(C,\) or \(N, C, d1, ...\)"),
    (lambda: nn.CrossEntropyLoss(np.ones(3))(X, np.zeros(3, dtype=int)), ValueError, r"weight: expected shape \(4,\) \(one weight per class\), got \(3,\)"),
    (lambda: nn.NLLLoss(np.ones(4, np.float32))(X, np.zeros(3, dtype=int)), TypeError, r"weight: expected dtype float64.*got float32"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=1.5), ValueError, r"label_smoothing: expected a number in \[0, 1\], got 1.5"),
    (lambda: nn.BCELoss()(X + 1.5, X), ValueError, r"input: expected probabilities in \[0, 1\], got 1.5"),
    (lambda: nn.BCELoss()(np.full(2, np.nan), np.zeros(2)), ValueError, r"input: expected probabilities in \[0, 1\], got nan"),
    (lambda: nn.BCELoss(np.ones(3))(X, X), ValueError, r"weight: expected a shape that broadcasts to the input's \(3, 4\), got \(3,\)"),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=np.ones((2, 3, 4)))(X, X), ValueError, r"pos_weight: expected a shape that broadcasts"),
    (lambda: nn.HuberLoss(delta=0.0)(X, X), ValueError, r"delta: expected a positive number, got 0.0"),
    (lambda: nn.SmoothL1Loss(beta=-1.0)(X, X), ValueError, r"beta: expected a non-negative number, got -1.0"),
    (lambda: nn.MSELoss().backward(), RuntimeError, r"MSELoss.backward called before forward"),
    (lambda: _after_forward(nn.MSELoss(reduction="none")).backward(np.ones(3)), ValueError, r"expected shape \(3, 4\) \(the forward output\), got \(3,\)"),
    (lambda: _after_forward(nn.MSELoss()).backward(np.ones((), np.float32)), TypeError, r"expected dtype float64 \(the forward output\), got float32"),
]


def _after_forward(criterion):
    criterion(X, X)
    return criterion


@pytest.mark.parametrize("call, error, match", BAD_INPUTS, ids=[m[:40] for _, _, m in BAD_INPUTS])
def test_bad_input_fails_loudly(call, error, match):
    with pytest.raises(error, match=match):
        call()
