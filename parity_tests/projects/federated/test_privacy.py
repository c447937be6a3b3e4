"""Project 18: DP-SGD's per-sample gradients and clipped step against Opacus, and the Renyi-DP
accountant's epsilon against Opacus' RDPAccountant."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.federated import privacy as torch_privacy
from reference.projects.mlp.model import MLP as TorchMLP
from scratch import nn
from scratch.projects.federated import client, privacy
from scratch.projects.federated.config import ClientConfig
from scratch.projects.mlp.model import MLP
from twins.parity import assert_close, dtypes, make_twins, seeds, tolerance


def twins_and_batch(seed, dtype, batch, hidden, in_features=5, num_classes=3):
    rng = np.random.default_rng(seed)
    model, twin = make_twins(MLP, TorchMLP, seed, dtype, scale=0.5, in_features=in_features, hidden_sizes=hidden, num_classes=num_classes)
    return model, twin, rng.normal(size=(batch, in_features)).astype(dtype), rng.integers(0, num_classes, batch)


@settings(max_examples=12)
@given(dtype=dtypes, batch=st.integers(1, 9), hidden=st.lists(st.integers(1, 6), min_size=0, max_size=2).map(tuple), seed=seeds)
def test_per_sample_gradients_match_opacus(dtype, batch, hidden, seed):
    """Each sample's gradient, parameter by parameter, equals Opacus' GradSampleModule's grad_sample,
    and they sum to the batch gradient of the layers' own backward."""
    model, twin, X, y = twins_and_batch(seed, dtype, batch, hidden)
    grads, loss = privacy.per_sample_gradients(model, X, y)
    torch_grads, torch_loss = torch_privacy.per_sample_gradients(twin, X, y)
    rtol, atol = tolerance(dtype, "grad", reduction=max(hidden, default=5))
    assert_close(np.array(loss), np.array(torch_loss), "summed loss", rtol, atol)
    assert grads.keys() == torch_grads.keys()
    for name, value in grads.items():
        assert value.shape == (batch, *dict(model.named_parameters())[name].shape)
        assert_close(value, torch_grads[name], f"per-sample grad of {name}", rtol, atol)
    criterion = nn.CrossEntropyLoss(reduction="sum")
    criterion(model(X), y)
    model.zero_grad()
    model.backward(criterion.backward(), input_grad=False)
    for name, param in model.named_parameters():
        assert_close(grads[name].sum(axis=0), param.grad, f"sum of per-sample grads of {name}", *tolerance(dtype, "grad", reduction=batch))


@settings(max_examples=10)
@given(dtype=dtypes, batch=st.integers(1, 12), max_grad_norm=st.floats(0.05, 5.0), seed=seeds)
def test_clipped_step_matches_opacus_dpoptimizer(dtype, batch, max_grad_norm, seed):
    """With no noise, a DP-SGD step (clip each sample to C, sum, divide by the expected batch size) moves the
    weights as Opacus' DPOptimizer does; small C clips most samples, large C none."""
    model, twin, X, y = twins_and_batch(seed, dtype, batch, (4,))
    expected_batch_size = batch + 2  # Poisson sampling: the expected size, not the drawn one
    loss = privacy.dp_sgd_step(model, X, y, 0.5, max_grad_norm, 0.0, expected_batch_size, np.random.default_rng(seed))
    torch_loss = torch_privacy.dp_sgd_step(twin, X, y, 0.5, max_grad_norm, 0.0, expected_batch_size)
    rtol, atol = tolerance(dtype, "train", reduction=batch)
    assert_close(np.array(loss), np.array(torch_loss), "mean loss", rtol, atol)
    torch_state = twin.state_dict()
    for name, value in model.state_dict().items():
        assert_close(value, torch_state[name], f"{name} after the step", rtol, atol)


def test_privatized_gradient_is_clipped_and_noised_as_said():
    """Clipping bounds each sample's norm by C; the noise has std sigma C / (q N), zero mean."""
    rng = np.random.default_rng(0)
    grads = {"w": rng.normal(0, 10, (50, 30, 20)), "b": rng.normal(0, 10, (50, 30))}
    clipped = privacy.privatize({k: v[:1] for k, v in grads.items()}, 1.0, 0.0, 1, rng)
    assert np.sqrt(sum(np.sum(v ** 2) for v in clipped.values())) == pytest.approx(1.0, rel=1e-5)
    noise = privacy.privatize({k: np.zeros_like(v) for k, v in grads.items()}, 2.0, 1.5, 10, rng)["w"]
    assert noise.std() == pytest.approx(1.5 * 2.0 / 10, rel=0.05) and abs(noise.mean()) < 0.02


def test_poisson_sampling_draws_each_sample_with_probability_q():
    sizes = [len(privacy.poisson_sample(1000, 0.05, np.random.default_rng(seed))) for seed in range(200)]
    assert np.mean(sizes) == pytest.approx(50, rel=0.05) and np.std(sizes) == pytest.approx(np.sqrt(1000 * 0.05 * 0.95), rel=0.2)


@settings(max_examples=12)
@given(sample_rate=st.floats(1e-3, 0.5), noise_multiplier=st.floats(0.6, 5.0), steps=st.integers(1, 3000),
       delta=st.sampled_from([1e-5, 1e-3]))
def test_epsilon_matches_opacus_rdp_accountant(sample_rate, noise_multiplier, steps, delta):
    """Our accountant's epsilon equals Opacus' RDPAccountant.get_epsilon(delta) for the same steps."""
    ours, theirs = privacy.RDPAccountant(), torch_privacy.RDPAccountant()
    ours.history = [[noise_multiplier, sample_rate, steps]]
    theirs.history = [(noise_multiplier, sample_rate, steps)]
    assert_close(np.array(ours.get_epsilon(delta)), np.array(theirs.get_epsilon(delta)), "epsilon", *tolerance(np.float64, "forward"))


def test_accountant_adds_steps_of_different_settings():
    ours, theirs = privacy.RDPAccountant(), torch_privacy.RDPAccountant()
    for sigma, q, steps in ((1.0, 0.01, 30), (2.0, 0.05, 20), (1.0, 0.01, 5)):
        for _ in range(steps):
            ours.step(noise_multiplier=sigma, sample_rate=q)
            theirs.step(noise_multiplier=sigma, sample_rate=q)
    assert [h[2] for h in ours.history] == [30, 20, 5]
    assert_close(np.array(ours.get_epsilon(1e-5)), np.array(theirs.get_epsilon(1e-5)), "epsilon", *tolerance(np.float64, "forward"))


@settings(max_examples=6)
@given(local_epochs=st.integers(1, 3), seed=seeds)
def test_dp_client_without_noise_or_clipping_is_a_full_batch_client(local_epochs, seed):
    """q = 1 (the whole shard each step), sigma = 0, a clip norm no gradient reaches: DP-FedAvg's client takes
    the same steps as the plain client with B = None (FedSGD's full batch)."""
    rng = np.random.default_rng(seed)
    model = MLP(5, (4,), 3, dtype=np.float64, rng=rng)
    X, y = rng.normal(size=(12, 5)), rng.integers(0, 3, 12)
    start = model.state_dict()
    dp_state, _ = privacy.dp_local_update(model, X, y, start, ClientConfig(local_epochs, 12, 0.3), rng, 0.0, 1e9)
    plain_state, _, _ = client.local_update(model, X, y, start, ClientConfig(local_epochs, None, 0.3), rng)
    for name, value in plain_state.items():
        assert_close(dp_state[name], value, f"{name} after the DP round", *tolerance(np.float64, "train"))


@pytest.mark.parametrize("noise_multiplier", [None, 1.1])
def test_the_flower_client_app_runs_dp_sgd_when_the_spec_asks(noise_multiplier):
    """The ClientApp (called in-process with the Message the ServerApp sends): with ``dp_noise_multiplier`` in the
    spec it replies with dp_local_update's weights for its round's rng, otherwise with local_update's."""
    import time

    from flwr.app import ConfigRecord, Context, Message, Metadata, RecordDict

    from scratch.projects.federated.federation import client_rng
    from twins.demos import federated_flower as flower

    spec = {"dataset": "digits", "quick": True, "split": "iid", "alpha": 0.5, "num_clients": 4, "seed": 3, "hidden_sizes": (16,),
            "in_features": 64, "dp_noise_multiplier": noise_multiplier, "dp_max_grad_norm": 0.8}
    model = flower.make_model(spec, 64)
    global_state = client.numpy_state(model)
    config = ClientConfig(local_epochs=1, batch_size=16, lr=0.1)
    content = {"arrays": flower.to_record(global_state), "client": ConfigRecord(config.to_dict()), "round": ConfigRecord({"round": 2}),
               "spec": flower.spec_record({key: value for key, value in spec.items() if value is not None})}
    metadata = Metadata(run_id=1, message_id="m", src_node_id=0, dst_node_id=1, reply_to_message_id="", group_id="2",
                        created_at=time.time(), ttl=60.0, message_type="train")
    message = Message(RecordDict(content), metadata=metadata)
    context = Context(run_id=1, node_id=1, node_config={"partition-id": 2}, state=RecordDict(), run_config={})
    reply = flower.make_client_app()(message, context)
    X, y = flower.client_data("digits", True, "iid", 4, 3, 0.5, 2)
    rng = client_rng(3, 2, 2)
    if noise_multiplier is None:
        expected, _, _ = client.local_update(flower.make_model(spec, 64), X, y, global_state, config, rng)
    else:
        expected, _ = privacy.dp_local_update(flower.make_model(spec, 64), X, y, global_state, config, rng, noise_multiplier, 0.8)
    replied = flower.from_record(reply.content["arrays"])
    for key, value in expected.items():
        np.testing.assert_array_equal(replied[key], value, err_msg=key)
    assert int(reply.content["metrics"]["num-examples"]) == len(X)
