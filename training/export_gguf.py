"""export.py --format gguf: a GGUF v3 file (llama.cpp's format), architecture `bitnet`, and
an independent reader that checks it against the checkpoint.

Metadata: general.*, bitnet.* (shape, rope.freq_base, attention.layer_norm_rms_epsilon), the
`llama` tokenizer (pieces with U+2581 for a space, single-byte tokens as <0xNN> of type 6,
scores 0) and bitgptc.tokenizer = "table" (bitgptc encodes by greedy longest match; a
`bytes` tokenizer is written as the table of its 256 bytes). Tensors: dims fastest first,
data aligned to 32 bytes; the rows of attn_q and attn_k in rotate-half order (llama.cpp
runs bitnet's RoPE NEOX-style). A ternary matrix is TQ2_0 or TQ1_0 (256 weights a block,
one fp16 scale each: the float32 scale rounded to fp16) when its rows are whole blocks,
else F32 holding code * scale (one magnitude, which bitgptc reads back as ternary).

  TQ2_0 block, 66 bytes: qs[64], then d (fp16). Element 32*l + m of 128-element half j
        (j = 0, 1) is code + 1 in bits 2l..2l+1 of qs[32*j + m].
  TQ1_0 block, 54 bytes: qs[48], qh[4], then d. Five trits a byte in qs (elements 0..159:
        32*k + m in byte m; 160..239: 160 + 16*k + m in byte 32 + m), four in qh
        (240 + 4*k + m in byte 48 + m); a byte holding trits t_0..t_{n-1} (code + 1, t_0
        the most significant) is ceil(256 * sum t_k 3^(4-k) / 243), and trit k comes back
        as ((uint8_t)(byte * 3^k) * 3) >> 8.
"""
import struct

import numpy as np

import tokenizer as tokmod
from export import (ModelConfig, f32_bytes, forward_check, from_rotate_half, plan_tensors, rotated,
                    table_tokens, to_rotate_half)

MAGIC = b"GGUF"
ALIGN = 32
# metadata value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALARS = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
           U64: "<Q", I64: "<q", F64: "<d"}
# ggml tensor types: id, elements per block, bytes per block
GGML = {"F32": (0, 1, 4), "TQ1_0": (34, 256, 54), "TQ2_0": (35, 256, 66)}

TOP_NAMES = {"tok_embeddings": "token_embd.weight", "final_norm.weight": "output_norm.weight"}
LAYER_NAMES = {"attn_norm.weight": "attn_norm", "attn.wq": "attn_q", "attn.wk": "attn_k", "attn.wv": "attn_v",
               "attn.sub_norm.weight": "attn_sub_norm", "attn.wo": "attn_output",
               "ffn_norm.weight": "ffn_norm", "ffn.w1": "ffn_gate", "ffn.w3": "ffn_up",
               "ffn.sub_norm.weight": "ffn_sub_norm", "ffn.w2": "ffn_down"}


def gguf_name(ename):
    if ename in TOP_NAMES:
        return TOP_NAMES[ename]
    _, layer, rest = ename.split(".", 2)
    return "blk.%s.%s.weight" % (layer, LAYER_NAMES[rest])


# ---------------------------------------------------------------- ternary blocks
def fp16_bytes(d, nblocks):
    return np.full((nblocks, 1), d, dtype="<f2").view(np.uint8)


def tq2_0(codes, d):
    t = (codes.astype(np.int16) + 1).astype(np.uint8).reshape(-1, 2, 4, 32)  # block, half j, l, m
    qs = t[:, :, 0] | (t[:, :, 1] << 2) | (t[:, :, 2] << 4) | (t[:, :, 3] << 6)
    return np.concatenate([qs.reshape(-1, 64), fp16_bytes(d, len(t))], axis=1).tobytes()


def base3(t):
    """trits t [block, k, m] (k = 5 or 4 per byte, t_0 most significant) -> bytes [block, m]."""
    v = np.zeros((t.shape[0], t.shape[2]), dtype=np.int32)
    for k in range(t.shape[1]):
        v = v * 3 + t[:, k]
    v *= 3 ** (5 - t.shape[1])
    return ((v * 256 + 242) // 243).astype(np.uint8)


def tq1_0(codes, d):
    t = (codes.astype(np.int32) + 1).reshape(-1, 256)
    nb = len(t)
    parts = [base3(t[:, :160].reshape(nb, 5, 32)), base3(t[:, 160:240].reshape(nb, 5, 16)),
             base3(t[:, 240:].reshape(nb, 4, 4)), fp16_bytes(d, nb)]
    return np.concatenate(parts, axis=1).tobytes()


# ---------------------------------------------------------------- writing
def gguf_str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gguf_value(vtype, v):
    if vtype == STRING:
        return gguf_str(v)
    if vtype == ARRAY:
        etype, items = v
        return struct.pack("<IQ", etype, len(items)) + b"".join(gguf_value(etype, x) for x in items)
    return struct.pack(SCALARS[vtype], v)


def gguf_tokens(tokens):
    """(pieces, token types): single bytes as <0xNN> (6, byte), empty strings as <ctrlN>
    (3, control), the rest with U+2581 for a space (1, normal)."""
    pieces, types = [], []
    for i, t in enumerate(tokens):
        b = tokmod.token_bytes(t)
        if len(b) == 1:
            pieces.append("<0x%02X>" % b[0])
            types.append(6)
        elif not b:
            pieces.append("<ctrl%d>" % i)
            types.append(3)
        else:
            if "\u2581" in t:
                raise ValueError("token %d %r holds U+2581, which GGUF's llama tokenizer reads as a space" % (i, t))
            pieces.append(t.replace(" ", "\u2581"))
            types.append(1)
    return pieces, types


def metadata(cfg, name, tokens, bos):
    pieces, types = gguf_tokens(tokens)
    k = "bitnet."
    kv = [("general.architecture", STRING, "bitnet"), ("general.name", STRING, name),
          ("general.alignment", U32, ALIGN)]
    kv += [(k + key, U32, v) for key, v in (
        ("context_length", cfg.max_seq_len), ("embedding_length", cfg.d_model), ("block_count", cfg.n_layers),
        ("feed_forward_length", cfg.d_ff), ("attention.head_count", cfg.n_heads),
        ("attention.head_count_kv", cfg.n_kv_heads), ("attention.key_length", cfg.head_dim),
        ("attention.value_length", cfg.head_dim), ("rope.dimension_count", cfg.head_dim))]
    kv += [(k + "rope.freq_base", F32, cfg.rope_theta), (k + "attention.layer_norm_rms_epsilon", F32, cfg.norm_eps),
           ("tokenizer.ggml.model", STRING, "llama"), ("tokenizer.ggml.tokens", ARRAY, (STRING, pieces)),
           ("tokenizer.ggml.scores", ARRAY, (F32, [0.0] * len(pieces))),
           ("tokenizer.ggml.token_type", ARRAY, (I32, types)), ("tokenizer.ggml.bos_token_id", U32, bos),
           ("bitgptc.tokenizer", STRING, "table")]
    return kv


def gguf_tensors(ckpt, ternary_type, log):
    """[(name, dims fastest first, ggml type name, bytes)] in the plan's order."""
    hd = ModelConfig(**ckpt["config"]).head_dim
    out, rounded = [], []
    for ename, kind, w, tq in plan_tensors(ckpt):
        name, dims = gguf_name(ename), list(reversed(w.shape))
        if tq is None:
            out.append((name, dims, "F32", f32_bytes(to_rotate_half(w, hd) if rotated(ename) else w)))
            continue
        q, s = tq
        q = to_rotate_half(q, hd) if rotated(ename) else q
        if ternary_type == "f32" or q.shape[1] % 256:
            out.append((name, dims, "F32", f32_bytes(q.astype(np.float32) * s)))
            continue
        d = np.float16(s)
        if not np.isfinite(d) or (d == 0) != (s == 0):
            raise ValueError("%s: scale %r does not fit an fp16 block scale (use --gguf-ternary f32)" % (name, float(s)))
        rounded.append(abs(float(d) - float(s)) / float(s) if s else 0.0)
        encode = tq2_0 if ternary_type == "tq2_0" else tq1_0
        out.append((name, dims, ternary_type.upper(), encode(q, d)))
    if rounded:
        log("export: warning: %d %s %s, whose blocks hold the scale as fp16: the float32 scale "
            "is rounded (relative change up to %.2e); F32 tensors and the other formats keep it "
            "exact" % (len(rounded), "matrix is" if len(rounded) == 1 else "matrices are",
                       ternary_type.upper(), max(rounded)))
    return out


def gguf_bytes(kv, tensors):
    head = MAGIC + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for key, vtype, v in kv:
        head += gguf_str(key) + struct.pack("<I", vtype) + gguf_value(vtype, v)
    data, at = b"", 0
    for name, dims, tname, raw in tensors:
        head += gguf_str(name) + struct.pack("<I", len(dims)) + struct.pack("<%dQ" % len(dims), *dims)
        head += struct.pack("<IQ", GGML[tname][0], at)
        pad = -len(raw) % ALIGN
        data += raw + b"\0" * pad
        at += len(raw) + pad
    return head + b"\0" * (-len(head) % ALIGN) + data


def write(ckpt, path, name, ternary_type="tq2_0", log=print):
    cfg = ModelConfig(**ckpt["config"])
    tensors = gguf_tensors(ckpt, ternary_type, log)
    blob = gguf_bytes(metadata(cfg, name, table_tokens(ckpt["tokenizer"], cfg.vocab_size),
                               ckpt["tokenizer"]["bos"]), tensors)
    with open(path, "wb") as f:
        f.write(blob)
    types = sorted(set(t[2] for t in tensors))
    log("wrote %s (%d bytes, %d tensors: %s)" % (path, len(blob), len(tensors), ", ".join(types)))


# ---------------------------------------------------------------- reading back
class Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, n):
        if self.at + n > len(self.data):
            raise ValueError("GGUF: truncated at byte %d" % self.at)
        self.at += n
        return self.data[self.at - n:self.at]

    def scalar(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self):
        return self.take(self.scalar("<Q")).decode("utf-8")

    def value(self, vtype):
        if vtype == STRING:
            return self.string()
        if vtype == ARRAY:
            etype, n = self.scalar("<I"), self.scalar("<Q")
            return [self.value(etype) for _ in range(n)]
        return self.scalar(SCALARS[vtype])


def read_gguf(path):
    """(metadata {key: (type, value)}, {tensor: (dims, ggml type id, raw bytes)}) after
    checking the header, alignment, sizes, bounds and overlaps."""
    with open(path, "rb") as f:
        data = f.read()
    r = Reader(data)
    if r.take(4) != MAGIC or r.scalar("<I") != 3:
        raise ValueError("%s: not a GGUF version 3 file" % path)
    n_tensors, n_kv = r.scalar("<Q"), r.scalar("<Q")
    meta = {}
    for _ in range(n_kv):
        key = r.string()
        vtype = r.scalar("<I")
        if key in meta:
            raise ValueError("%s: metadata %s twice" % (path, key))
        meta[key] = (vtype, r.value(vtype))
    align = meta.get("general.alignment", (U32, 32))[1]
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.scalar("<Q") for _ in range(r.scalar("<I"))]
        infos.append((name, dims, r.scalar("<I"), r.scalar("<Q")))
    start = -(-r.at // align) * align
    sizes = {v[0]: (v[1], v[2]) for v in GGML.values()}
    tensors, spans = {}, []
    for name, dims, ttype, off in infos:
        n = int(np.prod(dims, dtype=np.int64))
        if ttype not in sizes or dims[0] % sizes[ttype][0] or off % align:
            raise ValueError("%s: tensor %s: type %d, dims %s, offset %d" % (path, name, ttype, dims, off))
        size = n // sizes[ttype][0] * sizes[ttype][1]
        if start + off + size > len(data):
            raise ValueError("%s: tensor %s runs past the end of the file" % (path, name))
        if name in tensors:
            raise ValueError("%s: tensor %s twice" % (path, name))
        tensors[name] = (dims, ttype, data[start + off:start + off + size])
        spans.append((off, off + size, name))
    spans.sort()
    for (_, a1, n0), (b0, _, n1) in zip(spans, spans[1:]):
        if b0 < a1:
            raise ValueError("%s: %s overlaps %s" % (path, n0, n1))
    return meta, tensors


def decode_ternary(raw, ttype):
    """TQ2_0 / TQ1_0 bytes -> (int8 codes [n], fp16 block scales as float64 [blocks])."""
    if ttype == GGML["TQ2_0"][0]:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 66)
        qs = b[:, :64].reshape(-1, 2, 1, 32)
        fields = (qs >> (2 * np.arange(4).reshape(1, 1, 4, 1))) & 3  # block, j, l, m
        if (fields == 3).any():
            raise ValueError("a TQ2_0 field holds 3, which is no ternary code")
        codes, d = fields.reshape(-1, 256), b[:, 64:66]
    else:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 54)

        def trits(bytes_, n):  # [block, m] -> [block, n * m], trit k of every byte, then k + 1
            k = 3 ** np.arange(n, dtype=np.uint16).reshape(1, n, 1)
            return ((((bytes_[:, None, :].astype(np.uint16) * k) & 255) * 3) >> 8).reshape(len(b), -1)
        codes = np.concatenate([trits(b[:, :32], 5), trits(b[:, 32:48], 5), trits(b[:, 48:52], 4)], axis=1)
        d = b[:, 52:54]
    scales = np.ascontiguousarray(d).view("<f2").astype(np.float64).reshape(-1)
    return codes.astype(np.int8).reshape(-1) - 1, scales


def validate(path, ckpt, check_text, log=print):
    cfg = ModelConfig(**ckpt["config"])
    meta, tensors = read_gguf(path)
    k = "bitnet."
    expect = {"general.architecture": "bitnet", "general.alignment": ALIGN,
              k + "context_length": cfg.max_seq_len, k + "embedding_length": cfg.d_model,
              k + "block_count": cfg.n_layers, k + "feed_forward_length": cfg.d_ff,
              k + "attention.head_count": cfg.n_heads, k + "attention.head_count_kv": cfg.n_kv_heads,
              k + "attention.key_length": cfg.head_dim, k + "rope.freq_base": np.float32(cfg.rope_theta),
              k + "attention.layer_norm_rms_epsilon": np.float32(cfg.norm_eps),
              "tokenizer.ggml.model": "llama", "tokenizer.ggml.bos_token_id": ckpt["tokenizer"]["bos"],
              "bitgptc.tokenizer": "table"}
    for key, v in expect.items():
        if key not in meta or meta[key][1] != v:
            raise ValueError("%s: %s is %r, expected %r" % (path, key, meta.get(key, (0, None))[1], v))
    pieces, types = meta["tokenizer.ggml.tokens"][1], meta["tokenizer.ggml.token_type"][1]
    if len(meta["tokenizer.ggml.scores"][1]) != len(pieces) or len(types) != len(pieces):
        raise ValueError("%s: tokens, scores and token types differ in number" % path)
    got = []
    for p, t in zip(pieces, types):
        if t == 6:
            got.append(bytes([int(p[3:5], 16)]) if len(p) == 6 and p.startswith("<0x") else None)
        else:
            got.append(b"" if t == 3 else p.replace("\u2581", " ").encode("utf-8"))
    if got != [tokmod.token_bytes(s) for s in table_tokens(ckpt["tokenizer"], cfg.vocab_size)]:
        raise ValueError("%s: the tokens differ from the checkpoint's" % path)

    hd, A, exact = cfg.head_dim, {}, True
    for ename, kind, w, tq in plan_tensors(ckpt):
        name = gguf_name(ename)
        if name not in tensors:
            raise ValueError("%s: tensor %s missing" % (path, name))
        dims, ttype, raw = tensors.pop(name)
        if dims != list(reversed(w.shape)):
            raise ValueError("%s: %s has dims %s, expected %s" % (path, name, dims, list(reversed(w.shape))))
        unrotate = (lambda a: from_rotate_half(a, hd)) if rotated(ename) else (lambda a: a)
        if ttype == GGML["F32"][0]:
            a = np.frombuffer(raw, dtype="<f4").reshape(w.shape)
            if tq is None:
                ok = np.array_equal(unrotate(a), w)
            else:
                ok = (np.isin(np.abs(a), (0, tq[1])).all() and
                      np.array_equal(unrotate(np.sign(a)).astype(np.int8), tq[0]))
            if not ok:
                raise ValueError("%s: %s: values differ from the checkpoint's" % (path, name))
            A[ename] = a.astype(np.float64)
        else:
            if tq is None:
                raise ValueError("%s: %s is ternary, the checkpoint's is float" % (path, name))
            codes, d = decode_ternary(raw, ttype)
            codes = codes.reshape(w.shape)
            if not np.array_equal(unrotate(codes), tq[0]):
                raise ValueError("%s: %s: codes differ from the checkpoint's" % (path, name))
            if not (d == float(np.float16(tq[1]))).all():
                raise ValueError("%s: %s: a block scale is not the fp16 of the checkpoint's scale" % (path, name))
            exact = exact and d[0] == tq[1]
            A[ename] = codes.astype(np.float64) * d[0]
    if tensors:
        raise ValueError("%s: tensors the model has no place for: %s" % (path, sorted(tensors)))
    log("validate: GGUF header, metadata, tokens, bounds/overlap, %d tensors decoded and equal to "
        "the checkpoint's%s" % (len(A), "" if exact else " (codes; block scales = fp16 of its scales)"))
    # the metadata matched the architecture above (epsilon and theta as float32)
    ar = {"d_model": cfg.d_model, "n_layers": cfg.n_layers, "n_heads": cfg.n_heads,
          "n_kv_heads": cfg.n_kv_heads, "head_dim": cfg.head_dim, "norm_eps": cfg.norm_eps,
          "rope_theta": cfg.rope_theta}
    # fp16 block scales change the logits a little; exact otherwise
    forward_check(ar, A, ckpt, tokmod.TableTokenizer(table_tokens(ckpt["tokenizer"], cfg.vocab_size),
                                                     meta["tokenizer.ggml.bos_token_id"][1]),
                  check_text, log, rotary="half", tol=1e-9 if exact else 2e-2, what="the GGUF file")
