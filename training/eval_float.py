"""Loss of the float QAT model (PyTorch) under exactly the protocol of `bitgptc eval`:
the text is encoded, cut into segments of max_seq_len tokens, each segment is fed after
BOS and every one of its tokens is predicted. Comparing the two numbers gives what
compiling to the integer pipeline costs.

    /usr/bin/python3 training/eval_float.py --ckpt training/runs/austen/ckpt.pt \
        --model-json examples/austen/model.json --text val.txt --max-tokens 50000 [--window 35]
"""
import argparse
import json
import math

import torch

import tokenizer as tokmod
from model import GPT, ModelConfig


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", required=True)
    p.add_argument("--model-json", required=True, help="the exported manifest (for its tokenizer)")
    p.add_argument("--text", required=True)
    p.add_argument("--max-tokens", type=int, default=50000)
    p.add_argument("--window", type=int, default=0, help="attend to the last W tokens (0: whole segment)")
    args = p.parse_args()

    ckpt = torch.load(args.ckpt, map_location="cpu")
    cfg = ModelConfig(**ckpt["config"])
    model = GPT(cfg, quant=ckpt.get("quant", True))
    model.load_state_dict(ckpt["model"])
    model.eval()
    man = json.load(open(args.model_json))
    tok = tokmod.from_spec(man["tokenizer"], cfg.vocab_size)
    ids = tok.encode(open(args.text, "rb").read())[: args.max_tokens]
    seg = cfg.max_seq_len
    nats, count, chars = 0.0, 0, 0
    with torch.no_grad():
        for begin in range(0, len(ids), seg):
            target = ids[begin:begin + seg]
            x = torch.tensor([[tok.bos] + target[:-1]])
            logits, _ = model(x, window=args.window)
            nats += float(torch.nn.functional.cross_entropy(logits[0], torch.tensor(target), reduction="sum"))
            count += len(target)
            chars += sum(len(tok.decode([t])) for t in target)
    print("tokens: %d\ncharacters: %d\nloss-nats-per-token: %.4f\nbits-per-char: %.4f"
          % (count, chars, nats / count, nats / chars / math.log(2)))


if __name__ == "__main__":
    main()
