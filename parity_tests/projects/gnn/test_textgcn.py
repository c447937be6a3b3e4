"""Project 16, TextGCN: the document-word graph against a loop-by-loop oracle on a small corpus, the
featureless two-layer GCN against its PyG twin (fed the identity; on the big graph a sparse adj_t), and
lockstep training of the TextGCN recipe (early stopping included) on a small text graph."""
import dataclasses
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.gnn import model as pyg_model
from reference.projects.gnn import train as pyg_train
from scratch.projects.gnn import model as scratch_model
from scratch.projects.gnn import textgraph
from scratch.projects.gnn import train as scratch_train
from scratch.projects.gnn.config import TEXTGCN
from twins.parity import assert_close, assert_lockstep, compare_modules, dtypes, make_twins, randomise, seeds, tolerance, torch_dtype

from .featureless import Featureless, TorchFeatureless
from .graphs import graphs

WORDS = ["oil", "crude", "barrel", "opec", "price", "trade", "deficit", "tariff", "export", "bank", "rate", "interest", "grain", "wheat", "corn", "ship"]


def corpus(rng, documents=24):
    """Random documents of 3 to 30 words from three topics' word pools (so that PMI has structure), labels the topic."""
    y = rng.integers(0, 3, documents)
    texts = [" ".join(rng.choice(WORDS[5 * label:5 * label + 6], rng.integers(3, 31))) for label in y]
    return texts, y


def oracle_ppmi(token_lists, window):
    """#W(i), #W(i, j) and #W by walking every window, then PPMI: the definition, loop by loop."""
    per_word, together, total = Counter(), Counter(), 0
    for tokens in token_lists:
        starts = range(max(len(tokens) - window + 1, 1)) if tokens else ()
        for start in starts:
            words = set(tokens[start:start + window])
            total += 1
            per_word.update(words)
            together.update((i, j) for i in words for j in words if i != j)
    pmi = {pair: math.log(count * total / (per_word[pair[0]] * per_word[pair[1]])) for pair, count in together.items()}
    return {pair: value for pair, value in pmi.items() if value > 0}


@settings(max_examples=15)
@given(seed=seeds, window=st.integers(2, 12), min_count=st.integers(1, 3))
def test_text_graph_matches_the_definitions(seed, window, min_count):
    rng = np.random.default_rng(seed)
    texts, y = corpus(rng)
    graph = textgraph.build(texts[:16], y[:16], texts[16:], y[16:], ["a", "b", "c"], window=window, min_count=min_count,
                            stop_words=["ship"])
    tokens = [[t for t in text.split() if t in graph.vocabulary] for text in texts]
    counts = Counter(t for text in texts for t in text.split())
    assert graph.vocabulary == sorted(w for w, c in counts.items() if c >= min_count and w != "ship")
    docs, n = graph.num_docs, graph.num_nodes
    assert (docs, n) == (24, 24 + len(graph.vocabulary)) and graph.x is None
    assert graph.y[:docs].tolist() == y.tolist() and (graph.y[docs:] == -1).all()
    weights = dict(zip(map(tuple, graph.edge_index.T.tolist()), graph.edge_weight.tolist()))
    assert len(weights) == graph.edge_index.shape[1]  # no duplicate edges, no self-loops
    assert all(i != j and math.isclose(weights[(j, i)], w, rel_tol=1e-12) for (i, j), w in weights.items())  # both ways
    expected = {(docs + a, docs + b): v for (a, b), v in oracle_ppmi([[graph.vocabulary.index(t) for t in doc] for doc in tokens], window).items()}
    df = Counter(t for doc in tokens for t in set(doc))
    for d, doc in enumerate(tokens):  # TF-IDF: count x log(D / df)
        for t, c in Counter(doc).items():
            value = c * math.log(len(texts) / df[t])
            if value > 0:
                expected[(d, docs + graph.vocabulary.index(t))] = expected[(docs + graph.vocabulary.index(t), d)] = value
    assert weights.keys() == expected.keys()
    assert all(math.isclose(weights[key], value, rel_tol=1e-9) for key, value in expected.items())


def test_masks_hold_out_a_tenth_of_the_train_documents():
    rng = np.random.default_rng(0)
    texts, y = corpus(rng, 40)
    graph = textgraph.build(texts[:30], y[:30], texts[30:], y[30:], ["a", "b", "c"], min_count=1)
    train, val, test = graph.masks(np.random.default_rng(1))
    assert (train.sum(), val.sum(), test.sum()) == (27, 3, 10)
    assert not (train & val).any() and test[30:40].all() and not (train | val | test)[40:].any()


@settings(max_examples=25)
@given(graph=graphs(), weighted=st.booleans(), training=st.booleans(), dtype=dtypes, seed=seeds)
def test_featureless_gcn_matches_pyg(graph, weighted, training, dtype, seed):
    """x=None on both twins (PyG's builds a sparse identity); with dropout in eval mode only (torch draws its own masks)."""
    num_nodes, edge_index, weight = graph
    rng = np.random.default_rng(seed)
    dropout = 0.0 if training else 0.5
    model = randomise(scratch_model.GCN(num_nodes, 4, 2, dropout=dropout, dtype=dtype, rng=rng), rng, scale=0.7).train(training)
    twin = pyg_model.GCN(num_nodes, 4, 2, dropout=dropout, dtype=torch_dtype(dtype)).train(training)
    kwargs = {"edge_weight": weight.astype(dtype)} if weighted else None
    compare_modules(Featureless(model), TorchFeatureless(twin, model=True), (edge_index,), rng, "featureless GCN", reduction=16,
                    forward_kwargs=kwargs)


@pytest.fixture(scope="module")
def small_text_graph():
    rng = np.random.default_rng(0)
    texts, y = corpus(rng, 60)
    return textgraph.build(texts[:45], y[:45], texts[45:], y[45:], ["a", "b", "c"], min_count=1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_textgcn_lockstep_training_matches_pyg(small_text_graph, dtype):
    """TextGCN's recipe without dropout, both twins from the same weights: PyG aggregating over its sparse
    adj_t, scratch over edge_index; the same losses, accuracies, stopping epoch and final weights."""
    graph = small_text_graph.astype(dtype)
    noisy = np.where(np.arange(graph.num_nodes) < 20, (graph.y + 1) % 3, graph.y)  # mislabelled documents: val loss turns
    graph = dataclasses.replace(graph, y=np.where(graph.y < 0, -1, noisy))
    train_mask, val_mask, _ = graph.masks(np.random.default_rng(0))
    config = dataclasses.replace(TEXTGCN, hidden=8, dropout=0.0, num_epochs=60, early_stopping=3)
    model, twin = make_twins(scratch_model.GCN, pyg_model.GCN, 0, dtype, in_channels=graph.num_nodes, out_channels=3,
                             **config.architecture())
    history = scratch_train.fit(model, None, graph.edge_index, graph.y, train_mask, val_mask, config, edge_weight=graph.edge_weight)
    torch_history = pyg_train.fit(twin, None, graph.edge_index, graph.y, train_mask, val_mask, config, edge_weight=graph.edge_weight)
    assert 3 < len(history["val_loss"]) < 60  # early stopping ended it, on the same epoch on both sides
    rtol, atol = tolerance(dtype, "train", reduction=graph.num_nodes)
    assert_lockstep(history, torch_history, model, twin, rtol, atol, keys=("train_loss", "val_loss", "val_acc"))
    predicted = scratch_train.predict(model, None, graph.edge_index, graph.edge_weight)
    torch_predicted = pyg_train.predict(twin, None, graph.edge_index, graph.edge_weight)
    assert_close(predicted, torch_predicted, "predictions", 0, 0)


def test_stop_early_is_the_papers_rule():
    config = dataclasses.replace(TEXTGCN, early_stopping=3)
    assert not config.stop_early([1.0, 0.9, 0.8])  # not past the window yet
    assert not config.stop_early([1.0, 0.9, 0.8, 0.85])  # below the mean 0.9 of the three before
    assert config.stop_early([1.0, 0.9, 0.8, 0.95])  # above it
    assert not dataclasses.replace(config, early_stopping=0).stop_early([1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("isolated", [1, 3])
def test_featureless_graph_counts_isolated_last_nodes(isolated):
    """Featureless nodes past the largest index in edge_index (isolated, no edges at all) are still nodes:
    PyG's adj_t is sized by the labels, not by edge_index.max() + 1, so both twins predict every node alike."""
    num_nodes = 8 + isolated
    edge_index = np.array([[0, 1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6, 7, 0]])
    edge_index = np.concatenate([edge_index, edge_index[::-1]], axis=1)  # a ring over the first 8 nodes
    y = np.arange(num_nodes) % 2
    train_mask = np.arange(num_nodes) < 4
    config = dataclasses.replace(TEXTGCN, hidden=4, dropout=0.0, num_epochs=5, early_stopping=0)
    model, twin = make_twins(scratch_model.GCN, pyg_model.GCN, 0, np.float64, in_channels=num_nodes, out_channels=2,
                             **config.architecture())
    history = scratch_train.fit(model, None, edge_index, y, train_mask, ~train_mask, config)
    torch_history = pyg_train.fit(twin, None, edge_index, y, train_mask, ~train_mask, config)
    rtol, atol = tolerance(np.float64, "train", reduction=num_nodes)
    assert_lockstep(history, torch_history, model, twin, rtol, atol, keys=("train_loss", "val_loss", "val_acc"))
    predicted = pyg_train.predict(twin, None, edge_index)
    assert predicted.shape == (num_nodes,)
    assert_close(scratch_train.predict(model, None, edge_index), predicted, "predictions", 0, 0)


def test_featureless_inputs_need_the_node_count():
    with pytest.raises(ValueError, match="num_nodes: expected the node count"):
        pyg_train.graph_inputs(None, np.array([[0], [1]]))
