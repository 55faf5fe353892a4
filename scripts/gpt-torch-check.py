#!/usr/bin/env python3
"""Loads a Tributary GPT checkpoint into a plain PyTorch module and recomputes its validation loss.

Usage: scripts/gpt-torch-check.py CHECKPOINT DATA_TXT [--tolerance 0.002]

The module is written here from the architecture (pre-LayerNorm blocks, causal multi-head
attention, exact GELU, 4x MLP, learned positions, head tied to the token embedding), with the
parameter names and shapes of the checkpoint (nn.Linear weights [out, in]); load_state_dict is
strict, so a missing, extra or misshapen tensor fails. The validation windows and the loss the
Java side measured come from the checkpoint's metadata; the two losses must agree within the
tolerance. Exits 0 when they do, 1 when they do not, 2 on bad input; needs python3-torch.
"""
import argparse
import json
import math
import struct
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("gpt-torch-check: PyTorch is not installed (Debian: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(2)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{name} is {info['dtype']}, expected F32")
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(raw[base + begin:base + end]), dtype=torch.float32)
        tensors[name] = t.reshape(info["shape"])
    return tensors, meta


class Block(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(c)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(c, 3 * c)
        self.attn.c_proj = nn.Linear(c, c)
        self.ln_2 = nn.LayerNorm(c)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(c, 4 * c)
        self.mlp.c_proj = nn.Linear(4 * c, c)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.heads)
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))


class Gpt(nn.Module):
    def __init__(self, vocab, context, layers, heads, c):
        super().__init__()
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(vocab, c)
        self.transformer.wpe = nn.Embedding(context, c)
        self.transformer.h = nn.ModuleList(Block(c, heads) for _ in range(layers))
        self.transformer.ln_f = nn.LayerNorm(c)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(t))
        for block in self.transformer.h:
            x = block(x)
        return self.transformer.ln_f(x) @ self.transformer.wte.weight.T  # tied head


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("data")
    ap.add_argument("--tolerance", type=float, default=0.002)
    a = ap.parse_args()
    tensors, meta = read_safetensors(a.checkpoint)
    if meta.get("format") != "tributary-gpt-1":
        print(f"gpt-torch-check: {a.checkpoint} is not a Tributary GPT checkpoint", file=sys.stderr)
        sys.exit(2)
    vocab = [int(v) for v in meta["vocabulary"].split(",")]
    context = int(meta["context"])
    model = Gpt(len(vocab), context, int(meta["layers"]), int(meta["heads"]), int(meta["embedding"]))
    model.load_state_dict(tensors, strict=True)
    model.eval()
    index = {cp: i for i, cp in enumerate(vocab)}
    with open(a.data, encoding="utf-8") as f:
        tokens = [index[ord(ch)] for ch in f.read()]
    offsets = [int(o) for o in meta["validation-offsets"].split(",")]
    x = torch.tensor([tokens[o:o + context] for o in offsets])
    y = torch.tensor([tokens[o + 1:o + 1 + context] for o in offsets])
    with torch.no_grad():
        loss = F.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1)).item()
    java = float(meta["validation-loss"])
    ok = abs(loss - java) <= a.tolerance
    print(f"gpt-torch-check: PyTorch {torch.__version__} validation loss {loss:.5f}, Tributary {java:.5f}, "
          f"difference {abs(loss - java):.5f} ({'within' if ok else 'OUTSIDE'} {a.tolerance})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
