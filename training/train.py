#!/usr/bin/python3
"""Quantisation-aware training (BitNet b1.58) of a small decoder-only GPT.

Example (the shipped Austen model, see training/README.md):
  nice -n 10 /usr/bin/python3 training/train.py \
      --data ../shared/data/corpora/austen.txt --out training/runs/austen
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import GPT, ModelConfig  # noqa: E402
import tokenizer as tokmod  # noqa: E402

LN2 = math.log(2.0)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("data")
    g.add_argument("--data", help="training text file (bytes); with --resume, the run's own")
    g.add_argument("--data-bytes", type=int, default=0, help="use only the first N bytes (0 = all)")
    g.add_argument("--val-frac", type=float, default=0.05, help="last fraction held out for validation")
    g.add_argument("--tokenizer", default="bytes",
                   help="'bytes' (vocab 256, BOS=10) or a JSON file with a table tokenizer object")
    g = p.add_argument_group("model")
    g.add_argument("--d-model", type=int, default=128)
    g.add_argument("--n-layers", type=int, default=4)
    g.add_argument("--n-heads", type=int, default=4)
    g.add_argument("--n-kv-heads", type=int, default=1)
    g.add_argument("--head-dim", type=int, default=32)
    g.add_argument("--d-ff", type=int, default=384)
    g.add_argument("--seq-len", type=int, default=256, help="training context = max_seq_len")
    g.add_argument("--float", action="store_true", help="disable quantisation (float baseline)")
    g.add_argument("--emb-std", type=float, default=0.1, help="init std of the token embedding")
    g = p.add_argument_group("optimisation")
    g.add_argument("--steps", type=int, default=2000)
    g.add_argument("--batch", type=int, default=32)
    g.add_argument("--lr", type=float, default=3e-3)
    g.add_argument("--min-lr-ratio", type=float, default=0.1)
    g.add_argument("--warmup", type=int, default=100)
    g.add_argument("--weight-decay", type=float, default=0.05)
    g.add_argument("--beta2", type=float, default=0.95)
    g.add_argument("--grad-clip", type=float, default=1.0)
    g.add_argument("--dropout", type=float, default=0.0,
                   help="dropout on each residual branch's output while training (0 = none)")
    g.add_argument("--windows", default="0",
                   help="comma list of attention windows sampled uniformly per step "
                        "(0 = full context), e.g. '0,32,16'")
    g.add_argument("--average-from", type=int, default=None,
                   help="from this step on, keep the mean of the weights taken every --average-every "
                        "steps and export that mean (weight averaging along one run; 0 = off, the "
                        "default). May be switched on with --resume before the first snapshot")
    g.add_argument("--average-every", type=int, default=None, help="steps between the averaged snapshots (default 250)")
    g = p.add_argument_group("evaluation / output")
    g.add_argument("--eval-every", type=int, default=250)
    g.add_argument("--eval-chunks", type=int, default=48, help="val chunks for periodic evaluation")
    g.add_argument("--final-eval-chunks", type=int, default=0, help="0 = whole validation set")
    g.add_argument("--eval-windows", default="0,32,16")
    g.add_argument("--prompt", default="It is a truth")
    g.add_argument("--sample-chars", type=int, default=200)
    g.add_argument("--seed", type=int, default=1337)
    g.add_argument("--threads", type=int, default=2)
    g.add_argument("--out", required=True, help="output directory (ckpt.pt, metrics.json, train.log)")
    g.add_argument("--ckpt-every", type=int, default=250,
                   help="write OUT/state.pt (model, optimiser, RNG streams, step) every N steps; 0 = never")
    g.add_argument("--stop-at", type=int, default=0,
                   help="stop after this step, writing OUT/state.pt for a later --resume (0 = run to --steps)")
    g.add_argument("--resume", action="store_true",
                   help="continue from OUT/state.pt with the arguments it was started with "
                        "(only --steps may grow; --threads may change, and the averaging until its first snapshot)")
    args = p.parse_args(argv)
    if not args.data and not args.resume:
        p.error("--data is required (unless --resume continues a run)")
    if (args.average_from is not None and args.average_from < 0) or (args.average_every is not None and args.average_every < 1):
        p.error("--average-from must be >= 0 and --average-every >= 1")
    if not args.resume:  # a resumed run keeps its own unless they are given
        args.average_from = args.average_from or 0
        args.average_every = args.average_every or 250
    return args


class Logger:
    def __init__(self, path, append=False):
        self.f = open(path, "a" if append else "w")

    def __call__(self, *a):
        s = " ".join(str(x) for x in a)
        print(s, flush=True)
        self.f.write(s + "\n")
        self.f.flush()


def lr_at(progress, step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = min(max(progress, 0.0), 1.0)
    mn = args.lr * args.min_lr_ratio
    return mn + 0.5 * (args.lr - mn) * (1.0 + math.cos(math.pi * progress))


def chunk_starts(n_tokens, seq_len, max_chunks):
    """Non-overlapping chunks of seq_len+1 tokens (stride seq_len); evenly subsampled."""
    starts = list(range(0, n_tokens - seq_len - 1 + 1, seq_len))
    if max_chunks and len(starts) > max_chunks:
        idx = np.linspace(0, len(starts) - 1, max_chunks).round().astype(int)
        starts = [starts[i] for i in idx]
    return starts


@torch.no_grad()
def evaluate(model, ids, tok_bytes, seq_len, windows, max_chunks, batch=32):
    """Returns {window: (nats_per_token, nats_per_char)} where chars are the bytes of the
    predicted tokens."""
    model.eval()
    starts = chunk_starts(len(ids), seq_len, max_chunks)
    res = {}
    for w in windows:
        tot_nats, tot_tok, tot_bytes = 0.0, 0, 0
        for b in range(0, len(starts), batch):
            st = starts[b:b + batch]
            x = torch.stack([ids[s:s + seq_len] for s in st])
            y = torch.stack([ids[s + 1:s + seq_len + 1] for s in st])
            logits, _ = model(x, window=w)
            nll = torch.nn.functional.cross_entropy(
                logits.view(-1, logits.size(-1)), y.reshape(-1), reduction="sum")
            tot_nats += float(nll)
            tot_tok += y.numel()
            tot_bytes += int(tok_bytes[y].sum())
        res[w] = (tot_nats / tot_tok, tot_nats / tot_bytes)
    model.train()
    return res


def fmt_eval(name, res):
    parts = []
    for w, (_, npc) in res.items():
        parts.append("%s w=%s %.4f nats/char %.4f bits/char" % (name, w if w else "full", npc, npc / LN2))
    return " | ".join(parts)


def fmt_duration(seconds):
    m, s = divmod(int(seconds + 0.5), 60)
    h, m = divmod(m, 60)
    return "%dh%02dm" % (h, m) if h else "%dm%02ds" % (m, s)


def load_resume_state(args):
    """The state a --resume continues from, with the run's own arguments restored so that
    the data split, model shape and schedule are the ones it started with."""
    path = os.path.join(args.out, "state.pt")
    if not os.path.isfile(path):
        sys.exit("train.py: --resume: %s does not exist (no checkpoint to continue from)" % path)
    state = torch.load(path, map_location="cpu")
    saved = dict(state["args"])
    if args.steps < saved["steps"]:
        sys.exit("train.py: --resume: --steps %d is below the run's %d" % (args.steps, saved["steps"]))
    # --out is where the state was found: a run folder copied elsewhere continues there.
    saved.update(steps=args.steps, threads=args.threads, stop_at=args.stop_at, resume=True, out=args.out)
    # The averaging: the run's own (runs from before it existed: off), or what is given, as
    # long as no snapshot has been taken on another grid.
    averaging = {"average_from": saved.get("average_from", 0), "average_every": saved.get("average_every", 250)}
    asked = {k: getattr(args, k) for k in averaging if getattr(args, k) is not None}
    taken = state.get("average", {}).get("count", 0)
    if taken and any(asked[k] != averaging[k] for k in asked):
        sys.exit("train.py: --resume: %d snapshots are already averaged from step %d every %d; "
                 "the averaging cannot change now" % (taken, averaging["average_from"], averaging["average_every"]))
    saved.update(averaging, **asked)
    return argparse.Namespace(**saved), state


class WeightAverage:
    """The mean of the model's weights over snapshots taken along one run (stochastic weight
    averaging): the points a run visits late in its schedule scatter around a flatter, better
    minimum than any one of them, and for the shipped example their mean is ~1 % better on
    held-out text than the last step. Only snapshots of one trajectory may be averaged:
    independently trained models do not share a basin, and their mean is useless."""

    def __init__(self, saved=None):
        self.sum = dict(saved["sum"]) if saved else {}
        self.count = saved["count"] if saved else 0

    def add(self, model):
        for k, v in model.state_dict().items():
            v = v.detach().to(torch.float64) if v.is_floating_point() else v.clone()
            self.sum[k] = self.sum[k] + v if (k in self.sum and v.is_floating_point()) else v
        self.count += 1

    def mean_state(self, like):
        return {k: (self.sum[k] / self.count).to(v.dtype) if v.is_floating_point() else self.sum[k]
                for k, v in like.state_dict().items()}

    def state(self):
        return {"sum": self.sum, "count": self.count}


def save_state(path, model, opt, step, gen, wrng, history, args, average):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "gen": gen.get_state(), "wrng": wrng.getstate(), "torch_rng": torch.get_rng_state(),
                "history": history, "args": vars(args), "average": average.state()}, tmp)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    state = None
    if args.resume:
        args, state = load_resume_state(args)
    os.makedirs(args.out, exist_ok=True)
    log = Logger(os.path.join(args.out, "train.log"), append=state is not None)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    log("args:", json.dumps(vars(args)))

    with open(args.data, "rb") as f:
        raw = f.read()
    if args.data_bytes:
        raw = raw[:args.data_bytes]
    n_val = int(len(raw) * args.val_frac)
    train_raw, val_raw = raw[:len(raw) - n_val], raw[len(raw) - n_val:]
    tok = tokmod.load(args.tokenizer)
    t0 = time.time()
    train_ids = torch.tensor(tok.encode(train_raw), dtype=torch.long)
    val_ids = torch.tensor(tok.encode(val_raw), dtype=torch.long)
    tok_bytes = torch.tensor([len(tok.decode([i])) for i in range(tok.vocab_size)], dtype=torch.long)
    log("data: %d bytes (train %d, val %d) -> %d / %d tokens (%.3f chars/token), tokenised in %.1fs"
        % (len(raw), len(train_raw), len(val_raw), len(train_ids), len(val_ids),
           len(train_raw) / len(train_ids), time.time() - t0))

    cfg = ModelConfig(d_model=args.d_model, n_layers=args.n_layers, n_heads=args.n_heads,
                      n_kv_heads=args.n_kv_heads, head_dim=args.head_dim, d_ff=args.d_ff,
                      vocab_size=tok.vocab_size, max_seq_len=args.seq_len)
    model = GPT(cfg, quant=not args.float, emb_std=args.emb_std, dropout=getattr(args, "dropout", 0.0))
    n_params = model.num_params()
    log("model: %s, %d parameters%s" % (json.dumps(cfg.to_dict()), n_params,
                                        " (FLOAT, no quantisation)" if args.float else ""))

    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if p.dim() == 2 and "tok_embeddings" not in n else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, args.beta2), eps=1e-8)

    windows = [int(w) for w in args.windows.split(",")]
    eval_windows = [int(w) for w in args.eval_windows.split(",")]
    gen = torch.Generator().manual_seed(args.seed)
    wrng = random.Random(args.seed)
    chars_per_tok = len(train_raw) / len(train_ids)
    T = args.seq_len

    step = 0
    history = []
    average = WeightAverage()
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        gen.set_state(state["gen"])
        wrng.setstate(state["wrng"])
        torch.set_rng_state(state["torch_rng"])
        step, history = state["step"], state["history"]
        average = WeightAverage(state.get("average"))
        log("resumed at step %d of %d from %s" % (step, args.steps, os.path.join(args.out, "state.pt")))
    state_path = os.path.join(args.out, "state.pt")

    # The schedule depends on the step alone, so a run's result does not depend on the
    # machine's load, and a resumed run continues exactly where it stopped.
    t_start = time.time()
    first_step = step
    run_loss, run_n = 0.0, 0
    while step < args.steps:
        lr = lr_at(step / args.steps, step, args)
        for gparam in opt.param_groups:
            gparam["lr"] = lr
        ix = torch.randint(0, len(train_ids) - T - 1, (args.batch,), generator=gen)
        x = torch.stack([train_ids[i:i + T] for i in ix.tolist()])
        y = torch.stack([train_ids[i + 1:i + T + 1] for i in ix.tolist()])
        w = wrng.choice(windows)
        _, loss = model(x, y, window=w)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        run_loss += float(loss)
        run_n += 1
        step += 1
        if step % 25 == 0 or step == first_step + 1:
            l = run_loss / run_n
            per_step = (time.time() - t_start) / (step - first_step)
            log("step %5d/%d  lr %.2e  train %.4f nats/char %.4f bits/char  gnorm %.2f  %.2f s/step  eta %s"
                % (step, args.steps, lr, l / chars_per_tok, l / chars_per_tok / LN2, float(gnorm),
                   per_step, fmt_duration(per_step * (args.steps - step))))
            run_loss, run_n = 0.0, 0
        if args.eval_every and step % args.eval_every == 0:
            r = evaluate(model, val_ids, tok_bytes, T, [0, 32], args.eval_chunks)
            history.append({"step": step, "time": time.time() - t_start,
                            "val": {str(k): v[1] for k, v in r.items()}})
            log("eval step %d: %s" % (step, fmt_eval("val", r)))
        if args.average_from and step >= args.average_from and \
                (step - args.average_from) % args.average_every == 0:
            average.add(model)
            log("step %d: weights added to the average (%d snapshots)" % (step, average.count))
        if step == args.stop_at:
            save_state(state_path, model, opt, step, gen, wrng, history, args, average)
            log("stopped at step %d as asked; continue with --resume" % step)
            return
        if args.ckpt_every and step % args.ckpt_every == 0 and step < args.steps:
            save_state(state_path, model, opt, step, gen, wrng, history, args, average)

    train_time = time.time() - t_start
    log("trained %d steps (%d in this process, %.1f min)" % (step, step - first_step, train_time / 60))
    if average.count:
        last = evaluate(model, val_ids, tok_bytes, T, eval_windows, args.final_eval_chunks)
        log("  the last step's weights: " + fmt_eval("val", last))
        model.load_state_dict(average.mean_state(model))
        log("exporting the mean of %d snapshots (steps %d..%d every %d)"
            % (average.count, args.average_from, args.average_from + (average.count - 1) * args.average_every,
               args.average_every))

    t0 = time.time()
    val_res = evaluate(model, val_ids, tok_bytes, T, eval_windows, args.final_eval_chunks)
    n_val_chunks = len(chunk_starts(len(val_ids), T, args.final_eval_chunks))
    train_res = evaluate(model, train_ids, tok_bytes, T, eval_windows, n_val_chunks)
    log("final (%d chunks of %d tokens each, %.1fs):" % (n_val_chunks, T, time.time() - t0))
    log("  " + fmt_eval("train", train_res))
    log("  " + fmt_eval("val", val_res))

    model.eval()
    prompt_ids = [tok.bos] + tok.encode(args.prompt.encode("utf-8"))
    samples = {}
    for w in [0, 32]:
        out = []
        text = b""
        # generate until the requested number of characters is reached
        ids = list(prompt_ids)
        while len(text) < args.sample_chars:
            nxt = model.generate_greedy(ids, 1, window=w)
            ids += nxt
            text += tok.decode(nxt)
        samples["full" if w == 0 else str(w)] = (args.prompt.encode() + text[:args.sample_chars]).decode("utf-8", "replace")
        log("greedy sample (window %s): %r" % ("full" if w == 0 else w, samples["full" if w == 0 else str(w)]))

    metrics = {
        "params": n_params, "steps": step, "train_seconds": train_time,
        "train": {("full" if k == 0 else str(k)): {"nats_per_char": v[1], "bits_per_char": v[1] / LN2,
                                                    "nats_per_token": v[0]} for k, v in train_res.items()},
        "val": {("full" if k == 0 else str(k)): {"nats_per_char": v[1], "bits_per_char": v[1] / LN2,
                                                  "nats_per_token": v[0]} for k, v in val_res.items()},
        "val_chunks": n_val_chunks, "chars_per_token": chars_per_tok,
        "samples": samples, "history": history,
    }
    ckpt = {"model": model.state_dict(), "config": cfg.to_dict(), "tokenizer": tok.spec(),
            "quant": not args.float, "args": vars(args), "metrics": metrics}
    torch.save(ckpt, os.path.join(args.out, "ckpt.pt"))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    log("saved %s" % os.path.join(args.out, "ckpt.pt"))


if __name__ == "__main__":
    main()
