#!/usr/bin/python3
"""Evaluate a train.py checkpoint on the held-out text and print greedy samples.

  /usr/bin/python3 training/evaluate.py training/runs/austen/ckpt.pt \
      --data /work/shared/data/corpora/austen.txt --windows 0,32,16 --int8-embeddings

--int8-embeddings additionally evaluates with the token embedding rounded to int8 with
one absmax scale per row, which is what the compiler does to the f32 table.
"""
import argparse
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import GPT, ModelConfig  # noqa: E402
import tokenizer as tokmod  # noqa: E402
from train import evaluate, fmt_eval, chunk_starts  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    ap.add_argument("--data", required=True)
    ap.add_argument("--val-frac", type=float, default=0.05)
    ap.add_argument("--windows", default="0,32,16")
    ap.add_argument("--max-chunks", type=int, default=0, help="0 = whole validation set")
    ap.add_argument("--int8-embeddings", action="store_true")
    ap.add_argument("--prompt", default="It is a truth")
    ap.add_argument("--sample-chars", type=int, default=200)
    ap.add_argument("--sample-windows", default="0,32,16")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    ck = torch.load(args.ckpt, map_location="cpu")
    cfg = ModelConfig(**ck["config"])
    model = GPT(cfg, quant=ck.get("quant", True))
    model.load_state_dict(ck["model"])
    model.eval()
    tok = tokmod.from_spec(ck["tokenizer"], cfg.vocab_size)
    raw = open(args.data, "rb").read()
    val = raw[len(raw) - int(len(raw) * args.val_frac):]
    ids = torch.tensor(tok.encode(val), dtype=torch.long)
    tb = torch.tensor([len(tok.decode([i])) for i in range(tok.vocab_size)], dtype=torch.long)
    windows = [int(w) for w in args.windows.split(",")]
    n = len(chunk_starts(len(ids), cfg.max_seq_len, args.max_chunks))
    print("%s: %d params, val %d bytes = %d tokens, %d chunks of %d"
          % (args.ckpt, model.num_params(), len(val), len(ids), n, cfg.max_seq_len))
    print(fmt_eval("val", evaluate(model, ids, tb, cfg.max_seq_len, windows, args.max_chunks)))
    prompt = [tok.bos] + tok.encode(args.prompt.encode("utf-8"))
    for w in [int(x) for x in args.sample_windows.split(",") if x]:
        ids_ = list(prompt)
        text = b""
        while len(text) < args.sample_chars:
            nxt = model.generate_greedy(ids_, 1, window=w)
            ids_ += nxt
            text += tok.decode(nxt)
        s = (args.prompt.encode("utf-8") + text[:args.sample_chars]).decode("utf-8", "replace")
        print("greedy (window %s): %r" % (w if w else "full", s))
    if args.int8_embeddings:
        with torch.no_grad():
            E = model.tok_embeddings.weight
            a = E.abs().amax(1, keepdim=True).clamp(min=1e-12) / 127.0
            E.copy_(torch.clamp(torch.round(E / a), -127, 127) * a)
        print(fmt_eval("val(int8 emb)", evaluate(model, ids, tb, cfg.max_seq_len, windows, args.max_chunks)))


if __name__ == "__main__":
    main()
