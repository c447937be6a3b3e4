"""Project 17 demo: grapheme-to-phoneme conversion on the CMU Pronouncing Dictionary with the scratch
encoder-decoder transformer and its torch twin, trained from the same initial weights by teacher forcing.

For ``cmudict`` the words are split 90/5/5 (scratch/projects/seq2seq/data.py says how); both twins
decode the test words greedily with the shared decoder, and are scored by word and phoneme error rate
(a word is right if it matches any of its pronunciations), beside the nearest-spelling lookup baseline
and the published anchors. The synthetic digit tasks (copy, reverse, sort) run the same pipeline in
seconds. Writes, into the output folder: the twins' training curves overlaid, WER against beam width, a cross-attention map (letters against phonemes) per example word,
metrics.json with every number (error examples and the commonest confusions included), and the scratch
model's checkpoint <dataset>_seq2seq.npz, which `python3 -m twins.demos.seq2seq --word WORD` reads.
"""
import argparse
import dataclasses
import time
from collections import Counter

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from reference.bridge import twin_pair
from reference.projects.seq2seq import model as torch_seq2seq
from scratch.projects.seq2seq import data, decoding
from scratch.projects.seq2seq import model as scratch_seq2seq
from scratch.projects.seq2seq.config import Seq2SeqConfig, TokenVocabulary, teacher_forcing_batch
from twins import plots
from twins.demos.common import run_datasets, save_report

THREADS = 1  # NumPy's BLAS and torch alike: the twins' times on one footing, steady on a shared machine
CONFIGS = {"cmudict": Seq2SeqConfig(), **{task: Seq2SeqConfig(d_model=32, dim_feedforward=64, num_encoder_layers=2,
                                                              num_decoder_layers=2, max_len=12, warmup=100, num_epochs=8)
                                          for task in data.TASKS}}
# the quick mode (a smoke run of the whole pipeline, for tests): a slice of the words, a small model, few epochs
QUICK = {"train": 1500, "test": 120, "config": {"d_model": 32, "nhead": 4, "num_encoder_layers": 1, "num_decoder_layers": 1,
                                                "dim_feedforward": 64, "num_epochs": 2, "warmup": 50, "max_len": 24}}
SYNTHETIC_SIZES = {"train": 4000, "val": 200, "test": 200}
# Anchors quoted by issue 18, not re-checked against the papers here (no network): see the README
PAPERS = {"Yao & Zweig 2015, LSTM encoder-decoder (as quoted)": {"wer": 28.6, "per": 7.6},
          "transformer G2P (as quoted)": {"wer": 22.0, "per": 5.0}}
EXAMPLE_WORDS = ("phoneme", "knight", "onomatopoeia")


def load_splits(name, seed, quick):
    """(train, val, test) as (sources, references) with references a list of pronunciations per source,
    plus the dictionary (None for the synthetic tasks) and the training words."""
    if name == "cmudict":
        dictionary = data.load_cmudict()
        train_words, val_words, test_words = data.split_words(dictionary, seed)
        if quick:
            train_words, val_words, test_words = train_words[:QUICK["train"]], val_words[:QUICK["test"]], test_words[:QUICK["test"]]
        splits = [(words, [dictionary[word] for word in words]) for words in (train_words, val_words, test_words)]
        return splits, dictionary, data.phoneme_inventory(dictionary)
    rng = np.random.default_rng(seed)
    splits = []
    for size in SYNTHETIC_SIZES.values():
        sources, targets = data.synthetic_task(name, size // (4 if quick else 1), rng, max_len=8)
        splits.append((sources, [[list(target)] for target in targets]))
    return splits, None, list(data.DIGITS)


def teacher_forcing(src_vocab, tgt_vocab, split):
    """One teacher-forcing row per (source, pronunciation) pair."""
    sources = [source for source, prons in zip(*split) for _ in prons]
    targets = [pron for prons in split[1] for pron in prons]
    return teacher_forcing_batch(src_vocab, tgt_vocab, sources, targets)


def decode(model, src_vocab, tgt_vocab, sources, config, beam_width=1, batch_size=256):
    """The decoded token lists of ``sources``, greedy (beam_width 1) or by beam search, batch by batch."""
    out = []
    for start in range(0, len(sources), batch_size):
        src = src_vocab.encode(sources[start:start + batch_size], "sources")
        if beam_width == 1:
            ids = decoding.greedy_decode(model, src, config.max_len)
        else:
            ids = decoding.beam_search(model, src, beam_width, config.max_len)
        out += tgt_vocab.decode(ids)
    return out


def confusions(predictions, references, top=10):
    """The commonest (reference phoneme -> predicted phoneme) substitutions, from the alignment of each
    wrong prediction of the same length as its closest reference (a quick, honest proxy for an alignment)."""
    counts = Counter()
    for predicted, prons in zip(predictions, references):
        reference = min(prons, key=lambda pron: data.edit_distance(predicted, pron))
        if len(reference) == len(predicted):
            counts.update((r, p) for r, p in zip(reference, predicted) if r != p)
    return [{"reference": r, "predicted": p, "count": n} for (r, p), n in counts.most_common(top)]


def attention_maps(model, src_vocab, tgt_vocab, words, config, out_dir, name):
    """The last decoder layer's cross-attention (heads averaged) of each word the source vocabulary covers."""
    shown = {}
    for word in words:
        if not all(char in src_vocab.stoi for char in word) or len(word) > config.max_len:
            continue
        ids, weights = decoding.greedy_decode(model, src_vocab.encode([word], "word"), config.max_len, cross_attention=True)
        phones = tgt_vocab.decode(ids)[0]
        if not phones:  # an untrained model may end at once: nothing read, nothing to draw
            continue
        weights = weights[0, :len(phones), :len(word)]  # (T, S): decoded phonemes against letters
        path = out_dir / f"{name}_cross_attention_{word}.png"
        plots.heatmaps({"scratch": weights}, phones, list(word), path,
                       f"{name}: what each phoneme of {word!r} read (last decoder layer, heads averaged)",
                       "decoded phoneme", "source letter", "attention weight")
        shown[word] = {"phonemes": phones, "png": path.name}
    return shown


def run_dataset(name, out_dir, num_epochs=None, quick=False, progress=True):
    config = CONFIGS[name]
    if quick:
        config = dataclasses.replace(config, **(QUICK["config"] if name == "cmudict" else {"num_epochs": 3}))
    if num_epochs is not None:
        config = dataclasses.replace(config, num_epochs=num_epochs)
    (train, val, test), dictionary, targets = load_splits(name, config.seed, quick)
    src_vocab = TokenVocabulary(data.SOURCE_ALPHABET if dictionary is not None else data.DIGITS)
    tgt_vocab = TokenVocabulary(targets)
    train_batch, val_batch = teacher_forcing(src_vocab, tgt_vocab, train), teacher_forcing(src_vocab, tgt_vocab, val)
    model, twin = twin_pair(scratch_seq2seq.Seq2SeqTransformer, torch_seq2seq.Seq2SeqTransformer, config.seed, np.float32,
                            **config.architecture(len(src_vocab), len(tgt_vocab)))
    report = {"config": dataclasses.asdict(config), "quick": quick,
              "samples": {part: len(split[0]) for part, split in zip(("train", "val", "test"), (train, val, test))},
              "training_pairs": len(train_batch[0]), "models": {}, "histories": {}}
    predictions = {}
    for side, module, library in (("scratch", model, scratch_seq2seq), ("torch", twin, torch_seq2seq)):
        start = time.perf_counter()
        report["histories"][side] = library.fit(module, train_batch, val_batch, config, progress=progress)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        predictions[side] = decode(module, src_vocab, tgt_vocab, test[0], config)
        wer, per = data.error_rates(predictions[side], test[1])
        report["models"][f"{side} transformer"] = {"wer": wer, "per": per, "train_seconds": seconds,
                                                   "decode_seconds": time.perf_counter() - start}
    scratch_seq2seq.save(out_dir / f"{name}_seq2seq.npz", model, src_vocab, tgt_vocab)
    report["twin_agreement"] = float(np.mean([a == b for a, b in zip(predictions["scratch"], predictions["torch"])]))
    # the twins trained apart drew different dropout masks; from the same weights they must decode alike
    same_weights = decode(torch_seq2seq.load(out_dir / f"{name}_seq2seq.npz")[0], src_vocab, tgt_vocab, test[0], config)
    report["twin_agreement_same_weights"] = float(np.mean([a == b for a, b in zip(predictions["scratch"], same_weights)]))
    if dictionary is not None:
        start = time.perf_counter()
        baseline = data.nearest_spelling(test[0], train[0], dictionary)
        wer, per = data.error_rates(baseline, test[1])
        report["models"]["nearest-spelling lookup"] = {"wer": wer, "per": per, "train_seconds": time.perf_counter() - start}
        report["papers"] = PAPERS
    widths = (1, 2) if quick else (1, 2, 4, 8)
    report["wer_by_beam_width"] = {width: data.error_rates(decode(model, src_vocab, tgt_vocab, test[0], config, width), test[1])[0]
                                   for width in widths}
    report["confusions"] = confusions(predictions["scratch"], test[1])
    report["errors"] = [{"word": source, "predicted": " ".join(p), "references": [" ".join(r) for r in refs]}
                        for source, refs, p in zip(*test, predictions["scratch"]) if p not in refs][:15]
    report["attention"] = attention_maps(model, src_vocab, tgt_vocab, EXAMPLE_WORDS if dictionary else test[0][:2], config,
                                         out_dir, name)
    plots.training_curves(report["histories"], out_dir / f"{name}_curves.png",
                          f"seq2seq transformer on {name}: scratch vs torch from the same initial weights",
                          loss_name="label-smoothed cross-entropy", accuracy=False)
    plots.curves({"scratch greedy/beam": (list(widths), list(report["wer_by_beam_width"].values()))},
                 out_dir / f"{name}_wer_by_beam_width.png", f"{name}: test WER against beam width", "beam width", "WER %")
    return report


def run(out_dir, dataset_names=("cmudict",), num_epochs=None, study=False, compare_sklearn=True, progress=True, quick=False):
    """``study`` and ``compare_sklearn`` are accepted for the command line's sake: this project has neither.
    ``quick``: a slice of the words, a small model and two epochs."""
    torch.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        out_dir, report = run_datasets(out_dir, dataset_names,
                                       lambda name, out: run_dataset(name, out, num_epochs, quick, progress))
    return save_report(out_dir, report)


def summary(report):
    """The WER/PER table of each data set, then the twins' agreement."""
    lines = []
    for name, result in report.items():
        samples = result["samples"]
        lines.append(f"{name}{' (quick)' if result['quick'] else ''}: {samples['train']} train / {samples['val']} validation / "
                     f"{samples['test']} test sources, {result['training_pairs']} training pairs")
        lines.append(f"  {'model':<52}{'WER %':>8}{'PER %':>8}{'train s':>9}")
        rows = {**result["models"], **result.get("papers", {})}
        for label, row in rows.items():
            seconds = f"{row['train_seconds']:>9.1f}" if "train_seconds" in row else f"{'':>9}"
            lines.append(f"  {label:<52}{row['wer']:>8.2f}{row['per']:>8.2f}{seconds}")
        beams = ", ".join(f"{width}: {wer:.2f}" for width, wer in result["wer_by_beam_width"].items())
        lines.append(f"  scratch WER by beam width: {beams}")
        lines.append(f"  twins decode {result['twin_agreement_same_weights']:.1%} of test sources alike from the same weights "
                     f"(the scratch checkpoint in both), {result['twin_agreement']:.1%} after training apart (different dropout masks)")
    return "\n".join(lines)


def main(argv=None):
    """`python3 -m twins.demos.seq2seq --word onomatopoeia [--checkpoint runs/seq2seq/cmudict_seq2seq.npz]`."""
    parser = argparse.ArgumentParser(description="pronounce words with a saved seq2seq checkpoint")
    parser.add_argument("--word", action="append", required=True, help="a word to pronounce (repeatable)")
    parser.add_argument("--checkpoint", default="runs/seq2seq/cmudict_seq2seq.npz")
    parser.add_argument("--beam-width", type=int, default=1)
    args = parser.parse_args(argv)
    model, src_vocab, tgt_vocab = scratch_seq2seq.load(args.checkpoint)
    words = [word.lower() for word in args.word]
    src = src_vocab.encode(words, "word")
    ids = (decoding.greedy_decode(model, src, model.max_len) if args.beam_width == 1
           else decoding.beam_search(model, src, args.beam_width, model.max_len))
    for word, phones in zip(words, tgt_vocab.decode(ids)):
        print(f"{word}: {' '.join(phones)}")


if __name__ == "__main__":
    main()
