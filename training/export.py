#!/usr/bin/python3
"""Export a training checkpoint (train.py's ckpt.pt) to bitgptc's native format:
model.json + binary sidecar, exactly as docs/model-format.md specifies.

  /usr/bin/python3 training/export.py training/runs/austen/ckpt.pt \
      --out-dir examples/austen --name austen

--format hf writes a Hugging Face folder instead (export_hf.py: config.json, safetensors,
tokenizer.json) and --format gguf a GGUF v3 file, OUT_DIR/NAME.gguf (export_gguf.py); both
are read back and checked the same way by their own readers (training/README.md).

After writing, the files are read back from disk and validated: size and FNV-1a 64 hash,
tensor bounds and overlap, ternary decoding (no `10` codes, zero padding bits) compared with
the checkpoint's quantised weights, scales, f32 tensors, and finally an independent NumPy
forward pass with a llama2.c-style KV cache (built only from the exported files) is compared
with the PyTorch model's logits at full context and with a sliding window.
"""
import argparse
import json
import os
import re
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import GPT, ModelConfig, weight_quant  # noqa: E402
import tokenizer as tokmod  # noqa: E402

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = 0xFFFFFFFFFFFFFFFF


def fnv1a64(data: bytes) -> str:
    h = FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * FNV_PRIME) & MASK64
    return "%016x" % h


# ---------------------------------------------------------------- ternary packing
def pack_ternary(codes: np.ndarray) -> bytes:
    """codes: int [rows, cols] in {-1, 0, 1}. 2 bits per weight, LSB first, 00=0, 01=+1,
    11=-1; every row padded to whole bytes with zero bits."""
    assert codes.ndim == 2
    assert np.isin(codes, (-1, 0, 1)).all()
    rows, cols = codes.shape
    nb = (cols + 3) // 4
    c = np.zeros((rows, nb * 4), dtype=np.uint8)
    c[:, :cols] = np.where(codes == 1, 1, np.where(codes == -1, 3, 0))
    c = c.reshape(rows, nb, 4)
    packed = c[:, :, 0] | (c[:, :, 1] << 2) | (c[:, :, 2] << 4) | (c[:, :, 3] << 6)
    return packed.astype(np.uint8).tobytes()


def unpack_ternary(buf: bytes, rows: int, cols: int) -> np.ndarray:
    nb = (cols + 3) // 4
    assert len(buf) == rows * nb
    b = np.frombuffer(buf, dtype=np.uint8).reshape(rows, nb)
    fields = np.stack([(b >> (2 * j)) & 3 for j in range(4)], axis=-1).reshape(rows, nb * 4)
    if (fields == 2).any():
        raise ValueError("invalid ternary code 10")
    if (fields[:, cols:] != 0).any():
        raise ValueError("non-zero padding bits")
    f = fields[:, :cols].astype(np.int8)
    return np.where(f == 1, 1, np.where(f == 3, -1, 0)).astype(np.int8)


# ---------------------------------------------------------------- tensor list
def tensor_plan(cfg: ModelConfig):
    """(export name, state_dict key, shape, kind) in sidecar order; kind is 'emb', 'norm'
    or 'linear'."""
    d, H, K = cfg.d_model, cfg.n_heads * cfg.head_dim, cfg.n_kv_heads * cfg.head_dim
    plan = [("tok_embeddings", "tok_embeddings.weight", [cfg.vocab_size, d], "emb")]
    for L in range(cfg.n_layers):
        p = "layers.%d." % L
        plan += [
            (p + "attn_norm.weight", p + "attn_norm.weight", [d], "norm"),
            (p + "attn.wq", p + "attn.wq.weight", [H, d], "linear"),
            (p + "attn.wk", p + "attn.wk.weight", [K, d], "linear"),
            (p + "attn.wv", p + "attn.wv.weight", [K, d], "linear"),
            (p + "attn.sub_norm.weight", p + "attn.sub_norm.weight", [H], "norm"),
            (p + "attn.wo", p + "attn.wo.weight", [d, H], "linear"),
            (p + "ffn_norm.weight", p + "ffn_norm.weight", [d], "norm"),
            (p + "ffn.w1", p + "ffn.w1.weight", [cfg.d_ff, d], "linear"),
            (p + "ffn.w3", p + "ffn.w3.weight", [cfg.d_ff, d], "linear"),
            (p + "ffn.sub_norm.weight", p + "ffn.sub_norm.weight", [cfg.d_ff], "norm"),
            (p + "ffn.w2", p + "ffn.w2.weight", [d, cfg.d_ff], "linear"),
        ]
    plan.append(("final_norm.weight", "final_norm.weight", [d], "norm"))
    return plan


def ternary(w: torch.Tensor, name="weight"):
    """(codes int8 [rows, cols] in {-1, 0, 1}, float32 scale) of a latent weight matrix:
    model.weight_quant, the one quantisation every export format writes."""
    q, s = weight_quant(w.float())
    s = np.float32(float(s))
    if not (np.isfinite(s) and s >= 0):
        raise ValueError("%s: bad scale %r" % (name, float(s)))
    return q.to(torch.int8).numpy(), s


def plan_tensors(ckpt):
    """The checkpoint's tensors in plan order: (export name, kind, float32 array, (codes,
    scale) for a projection of a quantised model, else None). Checks the shapes and that
    every checkpoint tensor has a place."""
    cfg = ModelConfig(**ckpt["config"])
    sd = ckpt["model"]
    quant = ckpt.get("quant", True)
    plan = tensor_plan(cfg)
    out = []
    for ename, key, shape, kind in plan:
        w = sd[key].float()
        if list(w.shape) != shape:
            raise ValueError("%s: shape %s, expected %s" % (ename, list(w.shape), shape))
        out.append((ename, kind, w.numpy(), ternary(w, ename) if kind == "linear" and quant else None))
    extra = set(sd.keys()) - {key for _, key, _, _ in plan}
    if extra:
        raise ValueError("checkpoint has tensors the format has no place for: %s" % sorted(extra))
    return out


def rotate_half_rows(rows, head_dim):
    """The rows of wq and wk in the two RoPE layouts: ours (llama2.c's) turns adjacent pairs
    (2i, 2i+1) of each head, Hugging Face's rotate_half and llama.cpp's bitnet (NEOX) turn
    (i, i + head_dim/2). dst[r] is the rotate-half row that holds our row r; permuting the
    rows of wq and wk so leaves every attention score unchanged."""
    r = np.arange(rows)
    i = r % head_dim
    return r - i + np.where(i % 2 == 0, i // 2, head_dim // 2 + i // 2)


def to_rotate_half(a, head_dim):
    out = np.empty_like(a)
    out[rotate_half_rows(a.shape[0], head_dim)] = a
    return out


def from_rotate_half(a, head_dim):
    return a[rotate_half_rows(a.shape[0], head_dim)]


def rotated(ename):
    """wq and wk, whose rows follow the RoPE layout."""
    return ename.endswith(("attn.wq", "attn.wk"))


def table_tokens(spec, vocab_size):
    """The tokenizer as a list of model.json token strings, for the formats that only know
    token lists: a `bytes` tokenizer becomes the table of its 256 single bytes (which
    encodes any text exactly as it does)."""
    if spec["type"] == "bytes":
        toks = [tokmod.token_string(bytes([i])) for i in range(256)]
    elif spec["type"] == "table":
        toks = list(spec["tokens"])
    else:
        raise ValueError("unknown tokenizer type %r" % spec["type"])
    if len(toks) != vocab_size:
        raise ValueError("the tokenizer has %d tokens, the model's vocabulary %d" % (len(toks), vocab_size))
    return toks


def architecture(cfg: ModelConfig):
    return {
        "d_model": cfg.d_model,
        "n_layers": cfg.n_layers,
        "n_heads": cfg.n_heads,
        "n_kv_heads": cfg.n_kv_heads,
        "head_dim": cfg.head_dim,
        "d_ff": cfg.d_ff,
        "vocab_size": cfg.vocab_size,
        "max_seq_len": cfg.max_seq_len,
        "positions": "rope",
        "rope_theta": float(cfg.rope_theta),
        "norm": "rmsnorm",
        "norm_eps": float(cfg.norm_eps),
        "ffn": "swiglu",
        "sub_norm": True,
        "tied_classifier": True,
    }


def f32_bytes(a: np.ndarray) -> bytes:
    a = a.astype("<f4")
    if not np.isfinite(a).all():
        raise ValueError("non-finite value")
    return a.tobytes()


def build(ckpt, name):
    cfg = ModelConfig(**ckpt["config"])
    blob = bytearray()
    tensors = []

    def align4():
        while len(blob) % 4:
            blob.append(0)

    for ename, kind, w, tq in plan_tensors(ckpt):
        align4()
        entry = {"name": ename, "shape": list(w.shape)}
        if tq is not None:
            q, s = tq
            entry["dtype"] = "ternary"
            entry["offset"] = len(blob)
            blob += pack_ternary(q)
            align4()
            entry["scales"] = {"granularity": "tensor", "offset": len(blob)}
            blob += struct.pack("<f", s)
        else:
            entry["dtype"] = "f32"
            entry["offset"] = len(blob)
            blob += f32_bytes(w)
        tensors.append(entry)

    manifest = {
        "format": "bitgptc-model",
        "version": 1,
        "name": name,
        "architecture": architecture(cfg),
        "tokenizer": ckpt["tokenizer"],
        "weights": None,  # filled in by the caller
        "tensors": tensors,
    }
    return manifest, bytes(blob)


# ---------------------------------------------------------------- validation
DTYPE_ROW_BYTES = {
    "f32": lambda c: 4 * c,
    "int8": lambda c: c,
    "ternary": lambda c: (c + 3) // 4,
    "binary": lambda c: (c + 7) // 8,
}


def read_back(json_path):
    """Parse model.json + sidecar from disk, check integrity; return (manifest, arrays)
    where arrays[name] is the real-valued float64 tensor (code x scale)."""
    with open(json_path) as f:
        man = json.load(f)
    assert man["format"] == "bitgptc-model" and man["version"] == 1
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", man["name"]) and len(man["name"]) <= 48
    wpath = os.path.join(os.path.dirname(os.path.abspath(json_path)), man["weights"]["file"])
    with open(wpath, "rb") as f:
        data = f.read()
    if len(data) != man["weights"]["bytes"]:
        raise ValueError("sidecar size %d != manifest %d" % (len(data), man["weights"]["bytes"]))
    h = fnv1a64(data)
    if h != man["weights"]["fnv1a64"]:
        raise ValueError("sidecar hash %s != manifest %s" % (h, man["weights"]["fnv1a64"]))
    spans = []
    arrays = {}
    for t in man["tensors"]:
        shape = t["shape"]
        rows, cols = (shape[0], shape[1]) if len(shape) == 2 else (1, shape[0])
        nbytes = rows * DTYPE_ROW_BYTES[t["dtype"]](cols)
        off = t["offset"]
        if off < 0 or off + nbytes > len(data):
            raise ValueError("%s: outside the sidecar" % t["name"])
        spans.append((off, off + nbytes, t["name"]))
        raw = data[off:off + nbytes]
        if t["dtype"] == "f32":
            assert "scales" not in t
            a = np.frombuffer(raw, dtype="<f4").astype(np.float64).reshape(shape)
        elif t["dtype"] == "ternary":
            sc = t["scales"]
            ns = 1 if sc["granularity"] == "tensor" else rows
            so = sc["offset"]
            if so < 0 or so + 4 * ns > len(data):
                raise ValueError("%s: scales outside the sidecar" % t["name"])
            spans.append((so, so + 4 * ns, t["name"] + " scales"))
            s = np.frombuffer(data[so:so + 4 * ns], dtype="<f4").astype(np.float64)
            if not (np.isfinite(s).all() and (s >= 0).all()):
                raise ValueError("%s: bad scales" % t["name"])
            codes = unpack_ternary(raw, rows, cols)
            a = codes.astype(np.float64) * (s[0] if ns == 1 else s[:, None])
            arrays[t["name"] + "#codes"] = codes
            arrays[t["name"] + "#scale"] = s
        else:
            raise ValueError("%s: dtype %s not produced by this exporter" % (t["name"], t["dtype"]))
        arrays[t["name"]] = a
    spans.sort()
    for (a0, a1, n0), (b0, b1, n1) in zip(spans, spans[1:]):
        if b0 < a1:
            raise ValueError("%s overlaps %s" % (n0, n1))
    return man, arrays


def np_rmsnorm(x, g, eps):
    return x / np.sqrt(np.mean(x * x) + eps) * g


def np_actq(x):
    a = max(np.max(np.abs(x)), 1e-8) / 127.0
    return np.clip(np.round(x / a), -127, 127) * a


def reference_forward(ar, A, ids, window=0, rotary="pairs", quant=True):
    """Independent float64 forward from the exported tensors, one token at a time with a
    KV cache (llama2.c style). ar: the manifest's architecture. window > 0: a token only
    sees the last `window` cached positions (including itself). rotary: "pairs" turns dims
    (2i, 2i+1) of a head together (ours), "half" dims (i, i + head_dim/2) (A's wq and wk in
    rotate-half row order). quant False: no activation quantisation (a float model).
    Returns logits [len(ids), vocab]."""
    d, nh, kvh, hd = ar["d_model"], ar["n_heads"], ar["n_kv_heads"], ar["head_dim"]
    eps, theta = ar["norm_eps"], ar["rope_theta"]
    g = nh // kvh
    actq = np_actq if quant else (lambda v: v)
    E = A["tok_embeddings"]
    kc = [[] for _ in range(ar["n_layers"])]
    vc = [[] for _ in range(ar["n_layers"])]
    out = []

    def rope(vec, pos):
        vec = vec.copy()
        for h in range(len(vec) // hd):
            for i in range(hd // 2):
                ang = pos * theta ** (-(2 * i) / hd)
                c, s = np.cos(ang), np.sin(ang)
                j0, j1 = (2 * i, 2 * i + 1) if rotary == "pairs" else (i, hd // 2 + i)
                v0, v1 = vec[h * hd + j0], vec[h * hd + j1]
                vec[h * hd + j0] = v0 * c - v1 * s
                vec[h * hd + j1] = v0 * s + v1 * c
        return vec

    for pos, tok in enumerate(ids):
        x = E[tok].copy()
        for L in range(ar["n_layers"]):
            p = "layers.%d." % L
            xn = actq(np_rmsnorm(x, A[p + "attn_norm.weight"], eps))
            q = rope(A[p + "attn.wq"] @ xn, pos)
            k = rope(A[p + "attn.wk"] @ xn, pos)
            v = A[p + "attn.wv"] @ xn
            kc[L].append(k)
            vc[L].append(v)
            lo = max(0, pos - window + 1) if window > 0 else 0
            y = np.zeros(nh * hd)
            for h in range(nh):
                kvi = h // g
                qh = q[h * hd:(h + 1) * hd]
                sc = np.array([qh @ kc[L][j][kvi * hd:(kvi + 1) * hd] for j in range(lo, pos + 1)])
                sc = sc / np.sqrt(hd)
                sc = np.exp(sc - sc.max())
                sc /= sc.sum()
                for jj, j in enumerate(range(lo, pos + 1)):
                    y[h * hd:(h + 1) * hd] += sc[jj] * vc[L][j][kvi * hd:(kvi + 1) * hd]
            y = actq(np_rmsnorm(y, A[p + "attn.sub_norm.weight"], eps))
            x = x + A[p + "attn.wo"] @ y
            xn = actq(np_rmsnorm(x, A[p + "ffn_norm.weight"], eps))
            a1 = A[p + "ffn.w1"] @ xn
            hdn = a1 / (1.0 + np.exp(-a1)) * (A[p + "ffn.w3"] @ xn)
            hdn = actq(np_rmsnorm(hdn, A[p + "ffn.sub_norm.weight"], eps))
            x = x + A[p + "ffn.w2"] @ hdn
        x = np_rmsnorm(x, A["final_norm.weight"], eps)
        out.append(E @ x)
    return np.array(out)


def validate(json_path, ckpt, check_text, log=print):
    man, A = read_back(json_path)
    cfg = ModelConfig(**ckpt["config"])
    tensors = plan_tensors(ckpt)
    names = [t["name"] for t in man["tensors"]]
    if names != [t[0] for t in tensors]:
        raise ValueError("tensor list differs from the expected plan")
    for ename, kind, w, tq in tensors:
        if (ename + "#codes" in A) != (tq is not None):
            raise ValueError("%s: ternary in one of the files and the checkpoint only" % ename)
        if tq is not None:
            if not np.array_equal(A[ename + "#codes"], tq[0]):
                raise ValueError("%s: decoded codes differ from the checkpoint" % ename)
            if np.float32(A[ename + "#scale"][0]) != tq[1]:
                raise ValueError("%s: scale differs" % ename)
        else:
            if not np.array_equal(A[ename].astype(np.float32), w):
                raise ValueError("%s: f32 values differ" % ename)
    log("validate: size, fnv1a64, bounds/overlap, %d tensors decoded and equal to the checkpoint"
        % len(tensors))
    forward_check(man["architecture"], A, ckpt, tokmod.from_spec(man["tokenizer"], cfg.vocab_size),
                  check_text, log)
    return man


def forward_check(ar, A, ckpt, tok, check_text, log, rotary="pairs", tol=1e-9, what="exported files"):
    """Forward-pass equivalence: the exported tensors A (NumPy, KV cache) vs the PyTorch
    model, at full context and with a 16-token window. Raises if the worst difference,
    relative to the largest logit, is over tol; returns it."""
    cfg = ModelConfig(**ckpt["config"])
    ids = [tok.bos] + tok.encode(check_text.encode("utf-8"))
    quant = ckpt.get("quant", True)
    model = GPT(cfg, quant=quant)
    model.load_state_dict(ckpt["model"])
    model.eval()
    # The PyTorch model runs in float64 here like the reference: in float32 an int8
    # activation rounding can flip near a .5 boundary and the (tiny) difference then
    # propagates through the KV cache, which would hide real disagreements.
    model = model.double()
    worst = 0.0
    for w in ([0, 16] if len(ids) > 16 else [0]):
        with torch.no_grad():
            tl, _ = model(torch.tensor([ids]), window=w)
        tl = tl[0].numpy()
        rl = reference_forward(ar, A, ids, window=w, rotary=rotary, quant=quant)
        diff = np.abs(tl - rl).max()
        agree = (tl.argmax(-1) == rl.argmax(-1)).mean()
        log("validate: forward on %d tokens, window %s: max |logit diff| %.2e, argmax agreement %.1f%%"
            % (len(ids), w if w else "full", diff, 100 * agree))
        worst = max(worst, diff / max(1.0, np.abs(rl).max()))
    if worst > tol:
        raise ValueError("PyTorch model and %s disagree (rel. diff %.3g)" % (what, worst))
    return worst


def manifest_json(man):
    """Readable JSON: one line per tensor and per table token."""
    lines = ["{"]
    keys = list(man.keys())
    for i, k in enumerate(keys):
        comma = "," if i + 1 < len(keys) else ""
        v = man[k]
        if k == "tensors":
            lines.append('  "tensors": [')
            for j, t in enumerate(v):
                lines.append("    " + json.dumps(t) + ("," if j + 1 < len(v) else ""))
            lines.append("  ]" + comma)
        elif k == "tokenizer" and v.get("type") == "table":
            head = {kk: vv for kk, vv in v.items() if kk != "tokens"}
            lines.append('  "tokenizer": ' + json.dumps(head)[:-1] + ', "tokens": [')
            toks = v["tokens"]
            for j in range(0, len(toks), 16):
                chunk = ", ".join(json.dumps(t) for t in toks[j:j + 16])
                lines.append("    " + chunk + ("," if j + 16 < len(toks) else ""))
            lines.append("  ]}" + comma)
        elif isinstance(v, dict) and k == "architecture":
            lines.append('  "architecture": ' + json.dumps(v, indent=4).replace("\n}", "\n  }") + comma)
        else:
            lines.append("  %s: %s%s" % (json.dumps(k), json.dumps(v), comma))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == man
    return text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt", help="checkpoint written by train.py")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--name", default="model", help="model name ([A-Za-z_][A-Za-z0-9_]*, <= 48 chars)")
    ap.add_argument("--format", choices=("native", "hf", "gguf"), default="native",
                    help="native: model.json + sidecar (default); hf: a Hugging Face folder; "
                         "gguf: OUT_DIR/NAME.gguf")
    ap.add_argument("--json", help="native: the manifest's file name (default model.json)")
    ap.add_argument("--weights", help="native: the sidecar's file name (default model.weights.bin)")
    ap.add_argument("--hf-weights", choices=("packed", "latent"),
                    help="hf: packed ternary codes with their scale (default), or the latent float weights")
    ap.add_argument("--shards", type=int, help="hf: split the tensors over N safetensors files")
    ap.add_argument("--gguf-ternary", choices=("tq2_0", "tq1_0", "f32"),
                    help="gguf: type of the ternary matrices whose rows are whole 256-weight blocks "
                         "(default tq2_0; fp16 block scales); the others are F32")
    ap.add_argument("--check-text", default="It is a truth universally acknowledged, that a single man")
    ap.add_argument("--no-validate", action="store_true")
    args = ap.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args.name) or len(args.name) > 48:
        sys.exit("invalid --name %r" % args.name)
    for opt, fmt in (("json", "native"), ("weights", "native"), ("hf_weights", "hf"), ("shards", "hf"),
                     ("gguf_ternary", "gguf")):
        if getattr(args, opt) is not None and args.format != fmt:
            ap.error("--%s applies to --format %s only" % (opt.replace("_", "-"), fmt))
    if args.shards is not None and args.shards < 1:
        ap.error("--shards must be at least 1")

    ckpt = torch.load(args.ckpt, map_location="cpu")
    if args.format == "native":
        export_native(ckpt, args)
        return
    # the writers and readers of the other formats (they import this module's shared parts)
    import export_gguf
    import export_hf
    try:
        os.makedirs(args.out_dir, exist_ok=True)
        if args.format == "hf":
            export_hf.write(ckpt, args.out_dir, args.hf_weights or "packed", args.shards or 1)
            if not args.no_validate:
                export_hf.validate(args.out_dir, ckpt, args.check_text)
        else:
            path = os.path.join(args.out_dir, args.name + ".gguf")
            export_gguf.write(ckpt, path, args.name, args.gguf_ternary or "tq2_0")
            if not args.no_validate:
                export_gguf.validate(path, ckpt, args.check_text)
    except ValueError as e:
        sys.exit("export.py: error: %s" % e)
    if not args.no_validate:
        print("validate: OK")


def export_native(ckpt, args):
    args.json = args.json or "model.json"
    args.weights = args.weights or "model.weights.bin"
    manifest, blob = build(ckpt, args.name)
    manifest["weights"] = {"file": args.weights, "bytes": len(blob), "fnv1a64": fnv1a64(blob)}
    os.makedirs(args.out_dir, exist_ok=True)
    wpath = os.path.join(args.out_dir, args.weights)
    jpath = os.path.join(args.out_dir, args.json)
    with open(wpath, "wb") as f:
        f.write(blob)
    with open(jpath, "w") as f:
        f.write(manifest_json(manifest))
    n_par = sum(int(np.prod(t["shape"])) for t in manifest["tensors"])
    print("wrote %s and %s (%d bytes, fnv1a64 %s, %d tensors, %d parameters)"
          % (jpath, wpath, len(blob), manifest["weights"]["fnv1a64"], len(manifest["tensors"]), n_par))
    if not args.no_validate:
        validate(jpath, ckpt, args.check_text)
        print("validate: OK")


if __name__ == "__main__":
    main()
