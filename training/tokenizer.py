"""Tokenizers matching docs/model-format.md: `bytes` and `table` (greedy longest match)."""
import json
import re

_BYTE_RE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


class BytesTokenizer:
    def __init__(self, bos=10, vocab_size=256):
        self.bos = bos
        self.vocab_size = vocab_size

    def spec(self):
        return {"type": "bytes", "bos": self.bos}

    def encode(self, data: bytes):
        return list(data)

    def decode(self, ids):
        return bytes(i for i in ids if i < 256)


def token_bytes(s: str) -> bytes:
    """Byte string a table entry stands for: `<0xHH>` is one byte, anything else is its
    UTF-8 encoding; the empty string is a control token (decodes to nothing)."""
    m = _BYTE_RE.match(s)
    if m:
        return bytes([int(m.group(1), 16)])
    return s.encode("utf-8")


def token_string(b: bytes) -> str:
    """Inverse of token_bytes for table construction: single non-printable / non-ASCII
    bytes and bytes that do not form valid UTF-8 become `<0xHH>`."""
    if len(b) == 1 and not (0x20 <= b[0] < 0x7F):
        return "<0x%02X>" % b[0]
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("multi-byte token is not valid UTF-8: %r" % b)
    if _BYTE_RE.match(s):
        raise ValueError("token would be read as a byte escape: %r" % s)
    return s


class TableTokenizer:
    def __init__(self, tokens, bos):
        self.tokens = list(tokens)
        self.bos = bos
        self.vocab_size = len(self.tokens)
        self.piece = [token_bytes(t) for t in self.tokens]
        self.lookup = {}
        for i, b in enumerate(self.piece):
            if b and b not in self.lookup:
                self.lookup[b] = i
        self.max_len = max(len(b) for b in self.piece)

    def spec(self):
        return {"type": "table", "bos": self.bos, "tokens": self.tokens}

    def encode(self, data: bytes):
        ids = []
        i, n = 0, len(data)
        lookup, L = self.lookup, self.max_len
        while i < n:
            for ln in range(min(L, n - i), 0, -1):
                t = lookup.get(data[i:i + ln])
                if t is not None:
                    ids.append(t)
                    i += ln
                    break
            else:
                raise ValueError("byte %r at %d is not in the token table" % (data[i:i + 1], i))
        return ids

    def decode(self, ids):
        return b"".join(self.piece[i] for i in ids)


def from_spec(spec, vocab_size=None):
    if spec["type"] == "bytes":
        return BytesTokenizer(spec.get("bos", 10), vocab_size or 256)
    if spec["type"] == "table":
        return TableTokenizer(spec["tokens"], spec["bos"])
    raise ValueError("unknown tokenizer type %r" % spec["type"])


def load(path_or_kind, vocab_size=None):
    """'bytes' or a JSON file holding a tokenizer object as in model.json."""
    if path_or_kind == "bytes":
        return BytesTokenizer(10, vocab_size or 256)
    with open(path_or_kind) as f:
        return from_spec(json.load(f))
