#!/usr/bin/python3
"""Build a small `table` tokenizer (docs/model-format.md) for a corpus.

The table holds all 256 single bytes (ids 0..255 are the bytes, so any text is encodable
and BOS can stay the newline byte 10) followed by multi-byte tokens learned by byte-pair
merges over words (an optional leading space plus letters, so " the" is one token).
Encoding is, as the format prescribes, greedy longest match over the table, which is what
train.py and the compiler use; BPE only proposes the strings.

  /usr/bin/python3 training/build_tokenizer.py --data austen.txt --vocab 512 --out tok512.json
"""
import argparse
import collections
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer as tokmod  # noqa: E402

WORD_RE = re.compile(rb" ?[A-Za-z]+")


def learn_merges(words, n_merges, min_len=2):
    """words: Counter of byte strings. Returns the list of merged byte strings, in order."""
    seqs = {w: [bytes([b]) for b in w] for w in words}
    new_tokens = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[a, b] += c
        if not pairs:
            break
        (a, b), _ = pairs.most_common(1)[0]
        m = a + b
        new_tokens.append(m)
        for w in words:
            s = seqs[w]
            if len(s) < 2:
                continue
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(m)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return new_tokens


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--val-frac", type=float, default=0.05,
                    help="learn from the text before the held-out tail only (as train.py)")
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--bos", type=int, default=10)
    ap.add_argument("--max-words", type=int, default=20000, help="most frequent words used for BPE")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    raw = open(args.data, "rb").read()
    raw = raw[:len(raw) - int(len(raw) * args.val_frac)]
    words = collections.Counter(WORD_RE.findall(raw))
    words = collections.Counter(dict(words.most_common(args.max_words)))
    merges = learn_merges(words, args.vocab - 256)
    tokens = [tokmod.token_string(bytes([b])) for b in range(256)]
    tokens += [tokmod.token_string(m) for m in merges]
    tok = tokmod.TableTokenizer(tokens, args.bos)
    ids = tok.encode(raw)
    assert tok.decode(ids) == raw, "round trip failed"
    with open(args.out, "w") as f:
        json.dump(tok.spec(), f)
    print("vocab %d, %.3f chars/token on the training text; longest tokens: %s"
          % (len(tokens), len(raw) / len(ids), sorted(tokens, key=len)[-8:]))


if __name__ == "__main__":
    main()
