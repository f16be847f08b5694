#!/usr/bin/python3
"""A llama2.c float checkpoint and its tokenizer.bin as a Hugging Face Llama folder, the
way Hugging Face's own conversion lays it out (an independent writer for the HF reader's
tests; numpy only):

  llama2c_to_hf.py MODEL.bin TOKENIZER.bin OUT_DIR [--shards N] [--dtype F32|F16|BF16]

- config.json (LlamaForCausalLM), model.safetensors or N shards with
  model.safetensors.index.json, tokenizer.json (BPE, byte fallback, merges ordered by the
  llama2.c scores so that merging by rank does what llama2.c's score order does);
- q_proj and k_proj rows permuted from llama2.c's adjacent pairs to rotate-half.
"""
import argparse
import json
import os
import struct

import numpy as np


def read_llama2c(path):
    data = open(path, "rb").read()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq = struct.unpack("<7i", data[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    hd = dim // n_heads
    f = np.frombuffer(data, dtype="<f4", offset=28)
    at = 0

    def take(*shape):
        nonlocal at
        n = int(np.prod(shape))
        out = f[at:at + n].reshape(shape)
        at += n
        return out
    w = {"emb": take(vocab, dim), "attn_norm": take(n_layers, dim),
         "wq": take(n_layers, n_heads * hd, dim), "wk": take(n_layers, n_kv * hd, dim),
         "wv": take(n_layers, n_kv * hd, dim), "wo": take(n_layers, dim, n_heads * hd),
         "ffn_norm": take(n_layers, dim), "w1": take(n_layers, hidden, dim),
         "w2": take(n_layers, dim, hidden), "w3": take(n_layers, hidden, dim),
         "final_norm": take(dim)}
    take(seq * hd // 2)  # freq_cis_real
    take(seq * hd // 2)  # freq_cis_imag
    if not shared:
        w["classifier"] = take(vocab, dim)
    cfg = dict(dim=dim, hidden=hidden, n_layers=n_layers, n_heads=n_heads, n_kv=n_kv, vocab=vocab, seq=seq, hd=hd)
    return cfg, w


def read_tokenizer(path, vocab):
    data = open(path, "rb").read()
    at = 4  # max_token_length
    pieces, scores = [], []
    for _ in range(vocab):
        score, n = struct.unpack_from("<fi", data, at)
        at += 8
        pieces.append(data[at:at + n].decode("utf-8"))
        scores.append(score)
        at += n
    return pieces, scores


def to_rotate_half(w, heads, hd):
    """Rows of each head from the pair layout (2i, 2i+1) to rotate-half (i, i + hd/2)."""
    out = np.empty_like(w)
    for h in range(heads):
        for i in range(hd):
            j = i // 2 if i % 2 == 0 else hd // 2 + i // 2
            out[h * hd + j] = w[h * hd + i]
    return out


DTYPES = {"F32": "<f4", "F16": "<f2"}


def encode(a, dtype):
    a = np.ascontiguousarray(a, dtype=np.float32)
    if dtype == "BF16":  # round to nearest even
        u = a.view("<u4").astype(np.uint64)
        u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")
        return u.tobytes()
    return a.astype(DTYPES[dtype]).tobytes()


def write_safetensors(path, tensors, dtype):
    header, blobs, at = {}, [], 0
    for name, a in tensors:
        b = encode(a, dtype)
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    return at


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("tokenizer")
    p.add_argument("out")
    p.add_argument("--shards", type=int, default=1)
    p.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    a = p.parse_args()
    cfg, w = read_llama2c(a.model)
    pieces, scores = read_tokenizer(a.tokenizer, cfg["vocab"])
    os.makedirs(a.out, exist_ok=True)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": cfg["dim"],
              "intermediate_size": cfg["hidden"], "num_hidden_layers": cfg["n_layers"],
              "num_attention_heads": cfg["n_heads"], "num_key_value_heads": cfg["n_kv"],
              "vocab_size": cfg["vocab"], "max_position_embeddings": cfg["seq"], "rope_theta": 10000.0,
              "rms_norm_eps": 1e-5, "hidden_act": "silu", "tie_word_embeddings": "classifier" not in w,
              "attention_bias": False, "mlp_bias": False, "rope_scaling": None,
              "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}
    json.dump(config, open(os.path.join(a.out, "config.json"), "w"), indent=2)
    t = [("model.embed_tokens.weight", w["emb"])]
    for l in range(cfg["n_layers"]):
        p_ = "model.layers.%d." % l
        t += [(p_ + "input_layernorm.weight", w["attn_norm"][l]),
              (p_ + "self_attn.q_proj.weight", to_rotate_half(w["wq"][l], cfg["n_heads"], cfg["hd"])),
              (p_ + "self_attn.k_proj.weight", to_rotate_half(w["wk"][l], cfg["n_kv"], cfg["hd"])),
              (p_ + "self_attn.v_proj.weight", w["wv"][l]), (p_ + "self_attn.o_proj.weight", w["wo"][l]),
              (p_ + "post_attention_layernorm.weight", w["ffn_norm"][l]),
              (p_ + "mlp.gate_proj.weight", w["w1"][l]), (p_ + "mlp.up_proj.weight", w["w3"][l]),
              (p_ + "mlp.down_proj.weight", w["w2"][l])]
    t.append(("model.norm.weight", w["final_norm"]))
    if "classifier" in w:
        t.append(("lm_head.weight", w["classifier"]))
    if a.shards == 1:
        write_safetensors(os.path.join(a.out, "model.safetensors"), t, a.dtype)
    else:
        weight_map, total = {}, 0
        per = (len(t) + a.shards - 1) // a.shards
        for s in range(a.shards):
            name = "model-%05d-of-%05d.safetensors" % (s + 1, a.shards)
            part = t[s * per:(s + 1) * per]
            total += write_safetensors(os.path.join(a.out, name), part, a.dtype)
            weight_map.update({n: name for n, _ in part})
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
                  open(os.path.join(a.out, "model.safetensors.index.json"), "w"), indent=2)
    # tokenizer.json: SentencePiece pieces (space as U+2581), merges in llama2.c score order
    sp = [x if (x.startswith("<0x") and len(x) == 6) else x.replace(" ", "\u2581") for x in pieces]
    vocab = {s: i for i, s in enumerate(sp)}
    merges = []
    for i in sorted(range(len(sp)), key=lambda i: -scores[i]):
        s = sp[i]
        for k in range(1, len(s)):
            if s[:k] in vocab and s[k:] in vocab:
                merges.append(s[:k] + " " + s[k:])
                break
    added = [{"id": i, "content": sp[i], "special": True} for i in (0, 1, 2)]
    tok = {"version": "1.0", "added_tokens": added,
           "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                             {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
           "pre_tokenizer": None,
           "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "byte_fallback": True,
                     "fuse_unk": True, "vocab": vocab, "merges": merges}}
    json.dump(tok, open(os.path.join(a.out, "tokenizer.json"), "w"), ensure_ascii=False)


if __name__ == "__main__":
    main()
