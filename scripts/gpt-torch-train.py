#!/usr/bin/env python3
"""The GPT reference recipe in PyTorch, for side-by-side measurement with Tributary (scripts/bench-gpt.sh).

Usage: gpt-torch-train.py DATA_TXT [--steps 2000] [--threads 2] [--seed 42]

Same architecture as scripts/gpt-torch-check.py (which also defines the module), same recipe as
tributary.gpt's defaults: 4 layers, 4 heads, 128 dims, context 64, 32 sequences a step, weights
N(0, 0.02), AdamW lr 1e-3 betas 0.9/0.99 weight decay 0.1 on matrices only, 100 warm-up steps then
a cosine to 1e-4 at step 2000, gradients clipped to norm 1. Validation loss: mean cross-entropy
over 100 fixed random windows of the last 10% of the characters. Prints one line:
  torch: steps S, validation loss L, tokens/s T, train seconds X
"""
import argparse
import importlib.util
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("gpt_torch_check", os.path.join(here, "gpt-torch-check.py"))
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def lr_at(it, peak=1e-3, floor=1e-4, warmup=100, decay=2000):
    if it < warmup:
        return peak * (it + 1) / (warmup + 1)
    if it >= decay:
        return floor
    ratio = (it - warmup) / (decay - warmup)
    return floor + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (peak - floor)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    with open(a.data, encoding="utf-8") as f:
        text = f.read()
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    data = torch.tensor([index[ch] for ch in text], dtype=torch.long)
    split = int(len(data) * 0.9)
    train, val = data[:split], data[split:]
    context, batch = 64, 32
    model = check.Gpt(len(vocab), context, 4, 4, 128)
    for name, p in model.named_parameters():
        if p.dim() == 2:
            nn.init.normal_(p, 0.0, 0.02)
        elif name.endswith("bias"):
            nn.init.zeros_(p)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))
    g = torch.Generator().manual_seed(a.seed + 1)
    val_ix = torch.randint(len(val) - context, (100,), generator=g)
    vx = torch.stack([val[i:i + context] for i in val_ix])
    vy = torch.stack([val[i + 1:i + 1 + context] for i in val_ix])
    train_seconds = 0.0
    for it in range(a.steps):
        start = time.perf_counter()
        ix = torch.randint(len(train) - context, (batch,))
        x = torch.stack([train[i:i + context] for i in ix])
        y = torch.stack([train[i + 1:i + 1 + context] for i in ix])
        for group in opt.param_groups:
            group["lr"] = lr_at(it)
        loss = F.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        train_seconds += time.perf_counter() - start
        if (it + 1) % 250 == 0:
            print(f"torch: step {it + 1}, loss {loss.item():.4f}, {(it + 1) * batch * context / train_seconds:,.0f} tokens/s",
                  file=sys.stderr, flush=True)
    model.eval()
    with torch.no_grad():
        vloss = F.cross_entropy(model(vx).reshape(-1, len(vocab)), vy.reshape(-1)).item()
    print(f"torch: steps {a.steps}, validation loss {vloss:.4f}, tokens/s {a.steps * batch * context / train_seconds:.0f},"
          f" train seconds {train_seconds:.1f}")


if __name__ == "__main__":
    main()
