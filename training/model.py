"""BitNet b1.58 decoder-only GPT, written to match bitgptc's integer pipeline.

Semantics (see docs/model-format.md and training/README.md):
  * token embedding (f32, tied classifier), no embedding scaling;
  * pre-norm blocks with RMSNorm (gain, eps 1e-5);
  * attention: RoPE with interleaved pairs (llama2.c), grouped-query / multi-query,
    scores q.k / sqrt(head_dim), causal softmax, optional sliding window;
  * sub-norms (RMSNorm with gain) before `wo` and before `w2`;
  * SwiGLU FFN: w2(subnorm(silu(w1 x) * w3 x));
  * every projection is a BitLinear: ternary absmean weights (one scale per tensor) and
    int8 absmax activations per token, both with a straight-through estimator.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    n_kv_heads: int = 1
    head_dim: int = 32
    d_ff: int = 384
    vocab_size: int = 256
    max_seq_len: int = 256
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    def to_dict(self):
        return asdict(self)


def weight_quant(w: torch.Tensor):
    """Absmean ternary quantisation: returns (codes in {-1,0,1}, per-tensor scale s)."""
    # computed in float32 (the exported scale's precision) even when the model runs in
    # float64 for validation
    s = w.float().abs().mean().clamp(min=1e-8).to(w.dtype)
    q = torch.clamp(torch.round(w / s), -1.0, 1.0)
    return q, s


def act_quant(x: torch.Tensor):
    """Per-token (last dim) absmax int8 fake quantisation with STE."""
    a = x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-8) / 127.0
    xq = torch.clamp(torch.round(x / a), -127.0, 127.0) * a
    return x + (xq - x).detach()


class BitLinear(nn.Module):
    def __init__(self, in_features, out_features, quant=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.quant = quant
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.normal_(self.weight, mean=0.0, std=0.02)

    def effective_weight(self):
        if not self.quant:
            return self.weight
        q, s = weight_quant(self.weight)
        return self.weight + (q * s - self.weight).detach()

    def forward(self, x):
        if self.quant:
            x = act_quant(x)
        return F.linear(x, self.effective_weight())


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(head_dim, seq_len, theta, device=None, dtype=torch.float32):
    """cos/sin of shape [seq_len, head_dim/2]; freq_i = theta^(-2i/head_dim)."""
    i = torch.arange(0, head_dim, 2, dtype=torch.float64, device=device)
    freqs = theta ** (-i / head_dim)
    pos = torch.arange(seq_len, dtype=torch.float64, device=device)
    ang = torch.outer(pos, freqs)
    return torch.cos(ang).to(dtype), torch.sin(ang).to(dtype)


def apply_rope(x, cos, sin):
    """x: [B, T, H, hd]; rotates interleaved pairs (2i, 2i+1)."""
    B, T, H, hd = x.shape
    xr = x.reshape(B, T, H, hd // 2, 2)
    x0, x1 = xr[..., 0], xr[..., 1]
    c = cos[:T].view(1, T, 1, hd // 2)
    s = sin[:T].view(1, T, 1, hd // 2)
    o0 = x0 * c - x1 * s
    o1 = x0 * s + x1 * c
    return torch.stack((o0, o1), dim=-1).reshape(B, T, H, hd)


def attention_mask(T, window, device=None):
    """Additive [T, T] mask: 0 where query i may attend key j, -inf elsewhere.
    window <= 0 means full causal context; otherwise query i sees keys j with
    i - window < j <= i (`window` keys including itself)."""
    i = torch.arange(T, device=device).view(T, 1)
    j = torch.arange(T, device=device).view(1, T)
    m = j <= i
    if window and window > 0:
        m = m & (j > i - window)
    return torch.zeros(T, T, device=device).masked_fill(~m, float("-inf"))


class LocalMask:
    """Sliding-window attention computed block-wise (a training speed-up that gives the
    same result as the dense mask): the sequence is cut into blocks of `block` >= window
    queries, each attending to its own and the previous block of keys."""

    def __init__(self, T, window, device=None):
        self.window, self.block = window, window
        self.nblk = T // window
        Bk = self.block
        a = torch.arange(Bk, device=device).view(Bk, 1)  # query index in block
        c = torch.arange(2 * Bk, device=device).view(1, 2 * Bk)  # key index in 2 blocks
        d = Bk + a - c  # i - j
        ok = (d >= 0) & (d < window)
        bias = torch.zeros(self.nblk, Bk, 2 * Bk, device=device)
        bias.masked_fill_(~ok, float("-inf"))
        bias[0, :, :Bk] = float("-inf")  # keys before position 0 do not exist
        self.bias = bias

    @staticmethod
    def usable(T, window):
        return window > 0 and T % window == 0 and T >= 2 * window


def local_attention(q, k, v, g, lm: LocalMask):
    """q: [N, g*T, hd], k/v: [N, T, hd] -> [N, g*T, hd]."""
    N, T, hd = k.shape
    Bk, nb = lm.block, lm.nblk
    pad = k.new_zeros(N, Bk, hd)
    kp = torch.cat([pad, k], 1).unfold(1, 2 * Bk, Bk)  # [N, nb, hd, 2Bk]
    vp = torch.cat([pad, v], 1).unfold(1, 2 * Bk, Bk)  # [N, nb, hd, 2Bk]
    qb = q.view(N, g, nb, Bk, hd)
    att = torch.einsum("ngbqd,nbdk->ngbqk", qb, kp) * (1.0 / math.sqrt(hd)) + lm.bias
    att = torch.softmax(att, dim=-1)
    y = torch.einsum("ngbqk,nbdk->ngbqd", att, vp)
    return y.reshape(N, g * T, hd)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig, quant=True):
        super().__init__()
        self.cfg = cfg
        H = cfg.n_heads * cfg.head_dim
        K = cfg.n_kv_heads * cfg.head_dim
        self.wq = BitLinear(cfg.d_model, H, quant)
        self.wk = BitLinear(cfg.d_model, K, quant)
        self.wv = BitLinear(cfg.d_model, K, quant)
        self.sub_norm = RMSNorm(H, cfg.norm_eps)
        self.wo = BitLinear(H, cfg.d_model, quant)

    def forward(self, x, cos, sin, mask):
        """mask: additive [T, T] float mask (0 or -inf)."""
        cfg = self.cfg
        B, T, _ = x.shape
        hd, kvh = cfg.head_dim, cfg.n_kv_heads
        g = cfg.n_heads // kvh
        if self.wq.quant:
            x = act_quant(x)  # the three projections share one quantised input
        q = F.linear(x, self.wq.effective_weight()).view(B, T, cfg.n_heads, hd)
        k = F.linear(x, self.wk.effective_weight()).view(B, T, kvh, hd)
        v = F.linear(x, self.wv.effective_weight()).view(B, T, kvh, hd)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        # query head h uses kv head h // g; stack the g query heads of a kv head along rows
        q = q.view(B, T, kvh, g, hd).permute(0, 2, 3, 1, 4).reshape(B * kvh, g * T, hd)
        k = k.permute(0, 2, 1, 3).reshape(B * kvh, T, hd)
        v = v.permute(0, 2, 1, 3).reshape(B * kvh, T, hd)
        if isinstance(mask, LocalMask):
            y = local_attention(q, k, v, g, mask)
        else:
            bias = mask.repeat(g, 1) if g > 1 else mask
            att = torch.baddbmm(bias, q, k.transpose(1, 2), beta=1.0, alpha=1.0 / math.sqrt(hd))
            att = torch.softmax(att, dim=-1)
            y = torch.bmm(att, v)  # [B*kvh, g*T, hd]
        y = y.view(B, kvh, g, T, hd).permute(0, 3, 1, 2, 4).reshape(B, T, cfg.n_heads * hd)
        return self.wo(self.sub_norm(y))


class FeedForward(nn.Module):
    def __init__(self, cfg: ModelConfig, quant=True):
        super().__init__()
        self.w1 = BitLinear(cfg.d_model, cfg.d_ff, quant)
        self.w3 = BitLinear(cfg.d_model, cfg.d_ff, quant)
        self.sub_norm = RMSNorm(cfg.d_ff, cfg.norm_eps)
        self.w2 = BitLinear(cfg.d_ff, cfg.d_model, quant)

    def forward(self, x):
        if self.w1.quant:
            x = act_quant(x)  # w1 and w3 share one quantised input
        h = F.silu(F.linear(x, self.w1.effective_weight())) * F.linear(x, self.w3.effective_weight())
        return self.w2(self.sub_norm(h))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, quant=True, dropout=0.0):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.attn = Attention(cfg, quant)
        self.ffn_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.ffn = FeedForward(cfg, quant)
        # training only (regularisation); no module at all for 0, so that a run without it
        # draws no random numbers for it and keeps its weights bit for bit
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x, cos, sin, mask):
        x = x + self.drop(self.attn(self.attn_norm(x), cos, sin, mask))
        x = x + self.drop(self.ffn(self.ffn_norm(x)))
        return x


class GPT(nn.Module):
    def __init__(self, cfg: ModelConfig, quant=True, emb_std=0.02, dropout=0.0):
        super().__init__()
        self.cfg = cfg
        self.tok_embeddings = nn.Embedding(cfg.vocab_size, cfg.d_model)
        nn.init.normal_(self.tok_embeddings.weight, mean=0.0, std=emb_std)
        self.layers = nn.ModuleList([Block(cfg, quant, dropout) for _ in range(cfg.n_layers)])
        self.final_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        cos, sin = rope_tables(cfg.head_dim, cfg.max_seq_len, cfg.rope_theta)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def num_params(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx, targets=None, window=0, pos_offset=0):
        B, T = idx.shape
        dtype = self.tok_embeddings.weight.dtype
        if pos_offset + T > self.rope_cos.shape[0] or dtype != torch.float32:
            cos, sin = rope_tables(self.cfg.head_dim, pos_offset + T, self.cfg.rope_theta,
                                   idx.device, dtype)
        else:
            cos, sin = self.rope_cos, self.rope_sin
        cos, sin = cos[pos_offset:pos_offset + T], sin[pos_offset:pos_offset + T]
        if self.training and LocalMask.usable(T, window):
            mask = LocalMask(T, window, idx.device)
        else:
            mask = attention_mask(T, window, idx.device)
        x = self.tok_embeddings(idx)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        x = self.final_norm(x)
        logits = x @ self.tok_embeddings.weight.t()
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1),
                                   reduction="mean")
        return logits, loss

    @torch.no_grad()
    def generate_greedy(self, ids, n_new, window=0):
        """Greedy decoding (recomputes the whole prefix each step; fine for short samples).
        window <= 0: full context over the last max_seq_len tokens. window > 0: sliding-
        window mask over the whole history with absolute positions, which is exactly what a
        ring-buffer KV cache of `window` slots computes (each cached key/value was produced
        with its own window, so deeper layers see further back than `window`)."""
        ids = list(ids)
        out = []
        for _ in range(n_new):
            if window and window > 0:
                x = torch.tensor([ids], dtype=torch.long)
                logits, _ = self(x, window=window)
            else:
                x = torch.tensor([ids[-self.cfg.max_seq_len:]], dtype=torch.long)
                logits, _ = self(x)
            nxt = int(torch.argmax(logits[0, -1]))
            ids.append(nxt)
            out.append(nxt)
        return out
