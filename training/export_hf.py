"""export.py --format hf: a Hugging Face folder in transformers' BitNet layout, and an
independent reader that checks it against the checkpoint.

  config.json        BitNetForCausalLM, quantization_config (quant_method bitnet,
                     linear_class autobitlinear; quantization_mode offline = packed codes,
                     online = latent weights); bitgptc_tokenizer "table"
  model.safetensors  (or --shards N: model-0000i-of-0000N.safetensors and
                     model.safetensors.index.json)
  tokenizer.json     the token table as a BPE vocab without merges

Packed (offline): each projection as U8 [out/4, in], byte [r, c] holding code + 1 of rows
r, r + out/4, r + 2 out/4, r + 3 out/4 in bits 0-1, 2-3, 4-5, 6-7, and `weight_scale` F32 [1]
(real weight = code * weight_scale): exactly the codes and scale of the native export.
Latent (online): the checkpoint's float weights, for the reader to ternarise. The rows of
q_proj and k_proj are in rotate-half order (export.rotate_half_rows).
"""
import json
import os
import re
import struct

import numpy as np
import torch

import tokenizer as tokmod
from export import (ModelConfig, f32_bytes, forward_check, from_rotate_half, plan_tensors, rotated,
                    table_tokens, ternary, to_rotate_half)

TOP_NAMES = {"tok_embeddings": "model.embed_tokens.weight", "final_norm.weight": "model.norm.weight"}
LAYER_NAMES = {  # ours after "layers.L." -> Hugging Face's after "model.layers.L."
    "attn_norm.weight": "input_layernorm.weight",
    "attn.wq": "self_attn.q_proj.weight",
    "attn.wk": "self_attn.k_proj.weight",
    "attn.wv": "self_attn.v_proj.weight",
    "attn.sub_norm.weight": "self_attn.attn_sub_norm.weight",
    "attn.wo": "self_attn.o_proj.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn.w1": "mlp.gate_proj.weight",
    "ffn.w3": "mlp.up_proj.weight",
    "ffn.sub_norm.weight": "mlp.ffn_sub_norm.weight",
    "ffn.w2": "mlp.down_proj.weight",
}
# our outputs, removed from --out-dir before writing so that no stale file is left beside new ones
OUTPUT_RE = re.compile(r"model(\.safetensors|\.safetensors\.index\.json|-\d{5}-of-\d{5}\.safetensors)")


def hf_name(ename):
    m = re.fullmatch(r"layers\.(\d+)\.(.+)", ename)
    return "model.layers.%s.%s" % (m.group(1), LAYER_NAMES[m.group(2)]) if m else TOP_NAMES[ename]


def scale_name(weight_name):
    return weight_name[:-len("weight")] + "weight_scale"


# ---------------------------------------------------------------- writing
def pack_rows4(codes, name):
    """int8 codes [out, in] -> uint8 [out/4, in] (see the module docstring)."""
    rows, cols = codes.shape
    if rows % 4:
        raise ValueError("%s: %d rows, not a multiple of 4, which packed weights need "
                         "(--hf-weights latent has no such limit)" % (name, rows))
    v = (codes.astype(np.int16) + 1).astype(np.uint8).reshape(4, rows // 4, cols)
    return v[0] | (v[1] << 2) | (v[2] << 4) | (v[3] << 6)


def hf_tensors(ckpt, weights):
    """[(name, safetensors dtype, shape, bytes)] in the plan's order."""
    hd = ModelConfig(**ckpt["config"]).head_dim
    out = []
    for ename, kind, w, tq in plan_tensors(ckpt):
        name = hf_name(ename)
        if tq is not None and weights == "packed":
            q, s = tq
            q = to_rotate_half(q, hd) if rotated(ename) else q
            out.append((name, "U8", [q.shape[0] // 4, q.shape[1]], pack_rows4(q, name).tobytes()))
            out.append((scale_name(name), "F32", [1], np.array([s], "<f4").tobytes()))
        else:
            a = to_rotate_half(w, hd) if rotated(ename) else w
            out.append((name, "F32", list(a.shape), f32_bytes(a)))
    return out


def safetensors_bytes(entries):
    """8-byte little-endian header length, the JSON header padded with spaces to a multiple
    of 8, then the tensors back to back in the listed order."""
    header = {"__metadata__": {"format": "pt"}}
    at = 0
    for name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(data)]}
        at += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(e[3] for e in entries)


def split(entries, n):
    """n consecutive runs of entries of about equal bytes, each at least one entry."""
    if n > len(entries):
        raise ValueError("--shards %d: only %d tensors to share out" % (n, len(entries)))
    cum = np.cumsum([0] + [len(e[3]) for e in entries])  # cum[i]: bytes before entry i
    starts = [0]
    for k in range(1, n):
        i = int(np.searchsorted(cum[:-1], cum[-1] * k / n))  # first entry at or past k/n
        starts.append(min(max(i, starts[-1] + 1), len(entries) - (n - k)))
    starts.append(len(entries))
    return [entries[a:b] for a, b in zip(starts, starts[1:])]


def config_json(cfg, quant, weights, bos):
    c = {
        "architectures": ["BitNetForCausalLM"], "model_type": "bitnet",
        "hidden_size": cfg.d_model, "intermediate_size": cfg.d_ff, "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads, "num_key_value_heads": cfg.n_kv_heads, "head_dim": cfg.head_dim,
        "vocab_size": cfg.vocab_size, "max_position_embeddings": cfg.max_seq_len,
        "rope_theta": float(cfg.rope_theta), "rms_norm_eps": float(cfg.norm_eps),
        "hidden_act": "silu", "tie_word_embeddings": True, "attention_bias": False, "mlp_bias": False,
        "rope_scaling": None, "bos_token_id": bos, "torch_dtype": "float32",
    }
    if quant:
        c["quantization_config"] = {"quant_method": "bitnet", "linear_class": "autobitlinear",
                                    "quantization_mode": "offline" if weights == "packed" else "online"}
    c["bitgptc_tokenizer"] = "table"
    return c


def tokenizer_json(tokens):
    vocab = {}
    for i, t in enumerate(tokens):
        if t in vocab:
            raise ValueError("tokens %d and %d are both %r: tokenizer.json's vocab maps a string "
                             "to one id" % (vocab[t], i, t))
        vocab[t] = i
    return {"version": "1.0", "added_tokens": [], "normalizer": None, "pre_tokenizer": None,
            "model": {"type": "BPE", "vocab": vocab, "merges": [], "byte_fallback": True,
                      "unk_token": None}}


def write(ckpt, out_dir, weights="packed", shards=1, log=print):
    cfg = ModelConfig(**ckpt["config"])
    quant = ckpt.get("quant", True)
    if not quant and weights == "packed":
        log("export: a float (non-quantised) checkpoint: every weight as F32, no quantization_config")
    entries = hf_tensors(ckpt, weights)
    tok = ckpt["tokenizer"]
    files = {"config.json": json.dumps(config_json(cfg, quant, weights, tok["bos"]), indent=2) + "\n",
             "tokenizer.json": json.dumps(tokenizer_json(table_tokens(tok, cfg.vocab_size)),
                                          ensure_ascii=False) + "\n"}
    if shards <= 1:
        files["model.safetensors"] = safetensors_bytes(entries)
    else:
        weight_map = {}
        for i, part in enumerate(split(entries, shards)):
            fname = "model-%05d-of-%05d.safetensors" % (i + 1, shards)
            files[fname] = safetensors_bytes(part)
            weight_map.update((e[0], fname) for e in part)
        index = {"metadata": {"total_size": sum(len(e[3]) for e in entries)}, "weight_map": weight_map}
        files["model.safetensors.index.json"] = json.dumps(index, indent=2) + "\n"
    os.makedirs(out_dir, exist_ok=True)
    stale = [f for f in sorted(os.listdir(out_dir)) if OUTPUT_RE.fullmatch(f) and f not in files]
    for f in stale:
        os.remove(os.path.join(out_dir, f))
    if stale:
        log("export: removed %d file(s) an earlier export left in %s: %s%s"
            % (len(stale), out_dir, ", ".join(stale[:3]), ", ..." if len(stale) > 3 else ""))
    for fname, content in files.items():
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(os.path.join(out_dir, fname), mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
            f.write(content)
    log("wrote %s: %s (%s weights, %d tensors, %d bytes of tensor data)"
        % (out_dir, ", ".join(files), weights if quant else "float", len(entries),
           sum(len(e[3]) for e in entries)))


# ---------------------------------------------------------------- reading back
ST_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("JSON key %r appears twice" % k)
        d[k] = v
    return d


def read_safetensors(path):
    """{name: (dtype, shape, raw bytes)} after checking the header, every tensor's size for
    its dtype and shape, bounds, overlaps, and that the data has no unused bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("%s: shorter than the header length" % path)
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8 or n % 8:
        raise ValueError("%s: header length %d (file %d bytes, multiple of 8 expected)" % (path, n, len(data)))
    header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    if header.pop("__metadata__", None) != {"format": "pt"}:
        raise ValueError("%s: __metadata__ is not {\"format\": \"pt\"}" % path)
    body = data[8 + n:]
    out, spans = {}, []
    for name, t in header.items():
        dtype, shape, (b, e) = t["dtype"], t["shape"], t["data_offsets"]
        if dtype not in ST_SIZES or not all(isinstance(x, int) and x >= 0 for x in shape + [b, e]):
            raise ValueError("%s: %s: bad dtype, shape or offsets" % (path, name))
        if not b <= e <= len(body):
            raise ValueError("%s: %s: bytes [%d, %d) outside the data (%d bytes)" % (path, name, b, e, len(body)))
        if e - b != int(np.prod(shape, dtype=np.int64)) * ST_SIZES[dtype]:
            raise ValueError("%s: %s: %d bytes for %s %s" % (path, name, e - b, dtype, shape))
        spans.append((b, e, name))
        out[name] = (dtype, shape, body[b:e])
    spans.sort()
    for (_, a1, n0), (b0, _, n1) in zip(spans, spans[1:]):
        if b0 < a1:
            raise ValueError("%s: %s overlaps %s" % (path, n0, n1))
    if sum(e - b for b, e, _ in spans) != len(body):
        raise ValueError("%s: the data has bytes no tensor uses" % path)
    return out


def read_folder(out_dir):
    """(config, {tensor: (dtype, shape, raw)}, token strings by id)."""
    with open(os.path.join(out_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f, object_pairs_hook=no_duplicates)
    index_path = os.path.join(out_dir, "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path, encoding="utf-8") as f:
            index = json.load(f, object_pairs_hook=no_duplicates)
        weight_map = index["weight_map"]
        files = sorted(set(weight_map.values()))
    else:
        index, weight_map, files = None, None, ["model.safetensors"]
    tensors = {}
    for fname in files:
        for name, t in read_safetensors(os.path.join(out_dir, fname)).items():
            if name in tensors:
                raise ValueError("tensor %s is in two files" % name)
            if weight_map is not None and weight_map.get(name) != fname:
                raise ValueError("tensor %s is in %s, the index says %s" % (name, fname, weight_map.get(name)))
            tensors[name] = t
    if weight_map is not None:
        if set(weight_map) != set(tensors):
            raise ValueError("the index names tensors the files do not hold")
        if index["metadata"]["total_size"] != sum(len(t[2]) for t in tensors.values()):
            raise ValueError("the index's total_size is not the tensors' bytes")
    with open(os.path.join(out_dir, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f, object_pairs_hook=no_duplicates)
    if tj["model"]["type"] != "BPE" or tj["model"]["merges"] or tj["added_tokens"]:
        raise ValueError("tokenizer.json: a BPE vocab without merges or added tokens expected")
    vocab = tj["model"]["vocab"]
    tokens = [None] * len(vocab)
    for s, i in vocab.items():
        if not (isinstance(i, int) and 0 <= i < len(vocab)) or tokens[i] is not None:
            raise ValueError("tokenizer.json: ids are not 0..%d, each once" % (len(vocab) - 1))
        tokens[i] = s
    return config, tensors, tokens


def unpack_rows4(raw, rows, cols):
    """uint8 [rows/4, cols] -> int8 codes [rows, cols]; row k*rows/4 + r is field k of row r."""
    b = np.frombuffer(raw, dtype=np.uint8).reshape(rows // 4, cols)
    fields = np.concatenate([(b >> shift) & 3 for shift in (0, 2, 4, 6)], axis=0)
    if (fields == 3).any():
        raise ValueError("a 2-bit field holds 3, which is no ternary code")
    return fields.astype(np.int8) - 1


def validate(out_dir, ckpt, check_text, log=print):
    cfg = ModelConfig(**ckpt["config"])
    quant = ckpt.get("quant", True)
    config, tensors, tokens = read_folder(out_dir)
    expect = {"hidden_size": cfg.d_model, "intermediate_size": cfg.d_ff, "num_hidden_layers": cfg.n_layers,
              "num_attention_heads": cfg.n_heads, "num_key_value_heads": cfg.n_kv_heads,
              "head_dim": cfg.head_dim, "vocab_size": cfg.vocab_size,
              "max_position_embeddings": cfg.max_seq_len, "rope_theta": cfg.rope_theta,
              "rms_norm_eps": cfg.norm_eps, "bos_token_id": ckpt["tokenizer"]["bos"],
              "tie_word_embeddings": True, "model_type": "bitnet", "bitgptc_tokenizer": "table"}
    for k, v in expect.items():
        if config.get(k) != v:
            raise ValueError("config.json: %s is %r, expected %r" % (k, config.get(k), v))
    qc = config.get("quantization_config")
    mode = qc and qc.get("quantization_mode")
    if quant and not (qc and qc["quant_method"] == "bitnet" and qc["linear_class"] == "autobitlinear"
                      and mode in ("offline", "online")):
        raise ValueError("config.json: quantization_config %r for a quantised checkpoint" % qc)
    if not quant and qc is not None:
        raise ValueError("config.json: a quantization_config for a float checkpoint")
    if tokens != table_tokens(ckpt["tokenizer"], cfg.vocab_size):
        raise ValueError("tokenizer.json: the vocab differs from the checkpoint's tokens")

    hd = cfg.head_dim

    def get(name, dtype, shape):
        if name not in tensors:
            raise ValueError("tensor %s missing" % name)
        dt, sh, raw = tensors.pop(name)
        if dt != dtype or sh != shape:
            raise ValueError("%s: %s %s, expected %s %s" % (name, dt, sh, dtype, shape))
        return raw

    A = {}  # real values in the folder's row order, for the forward pass with rotate-half RoPE
    for ename, kind, w, tq in plan_tensors(ckpt):
        name = hf_name(ename)
        unrotate = (lambda a: from_rotate_half(a, hd)) if rotated(ename) else (lambda a: a)
        if tq is not None and mode == "offline":
            rows, cols = w.shape
            codes = unpack_rows4(get(name, "U8", [rows // 4, cols]), rows, cols)
            s = np.frombuffer(get(scale_name(name), "F32", [1]), dtype="<f4")[0]
            if not np.array_equal(unrotate(codes), tq[0]):
                raise ValueError("%s: codes differ from the checkpoint's" % name)
            if s != tq[1]:
                raise ValueError("%s: weight_scale %r, the checkpoint's is %r" % (name, s, tq[1]))
            A[ename] = codes.astype(np.float64) * float(s)
        else:
            a = np.frombuffer(get(name, "F32", list(w.shape)), dtype="<f4").reshape(w.shape)
            if not np.array_equal(unrotate(a), w):
                raise ValueError("%s: values differ from the checkpoint's" % name)
            if tq is not None:  # latent: ternarised as a reader does, by absmean per matrix
                # (in our row order: a float32 mean in another order can differ in the last bit)
                q, s = ternary(torch.from_numpy(unrotate(a).copy()), name)
                A[ename] = (to_rotate_half(q, hd) if rotated(ename) else q).astype(np.float64) * float(s)
            else:
                A[ename] = a.astype(np.float64)
    if tensors:
        raise ValueError("tensors the model has no place for: %s" % sorted(tensors))
    log("validate: safetensors headers, bounds/overlap, %d tensors decoded and equal to the "
        "checkpoint's (%s)" % (len(A), {"offline": "packed codes and scales", "online": "latent weights",
                                        None: "float weights"}[mode]))
    ar = {"d_model": config["hidden_size"], "n_layers": config["num_hidden_layers"],
          "n_heads": config["num_attention_heads"], "n_kv_heads": config["num_key_value_heads"],
          "head_dim": config["head_dim"], "norm_eps": config["rms_norm_eps"], "rope_theta": config["rope_theta"]}
    forward_check(ar, A, ckpt, tokmod.TableTokenizer(tokens, config["bos_token_id"]), check_text, log,
                  rotary="half", what="the Hugging Face folder")
