# Native PyTorch on the card's model, the yardstick of issue 12: the same weights (our seed-0
# Glorot init, from reference.bin), the same 256 MNIST digits, the same batches, one thread.
#   python3 bench/impls/pytorch.py DIR OUT [--quick]
# DIR is run.mjs's reference folder (reference.json, reference.bin, x256.bin); OUT gets the rows
# in the suite's format. Timing mirrors tinybench's p50: warm-up, then the median of timed samples.
import json
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)
ref_dir, out = sys.argv[1], sys.argv[2]
quick = '--quick' in sys.argv

meta = json.load(open(f'{ref_dir}/reference.json'))
ref = np.fromfile(f'{ref_dir}/reference.bin', dtype=np.float32)
x = torch.from_numpy(np.fromfile(f'{ref_dir}/x256.bin', dtype=np.float32).reshape(256, 784).copy())


def part(name):
    a = meta['arrays'][name]
    return torch.from_numpy(ref[a['offset']:a['offset'] + a['length']].copy())


def card():
    # 784-256-64-256-784, ReLU everywhere but the output: logits, BCE from them (BCEWithLogits)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU(),
                          nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784))
    with torch.no_grad():
        for name, layer in zip(['encoder.0', 'encoder.2', 'decoder.0', 'decoder.2'], [model[0], model[2], model[4], model[6]]):
            layer.weight.copy_(part(f'{name}.weight').view_as(layer.weight))
            layer.bias.copy_(part(f'{name}.bias'))
    return model


def measure(fn):
    """Median ms per call: ~0.3 s of warm-up, then samples of ≥ 20 ms each (at least 20 of them)."""
    t_end = time.perf_counter() + (0.05 if quick else 0.3)
    calls = 0
    while time.perf_counter() < t_end or calls < 3:
        fn()
        calls += 1
    per = 0.3 / calls
    reps = max(1, int(0.02 / per))
    samples = []
    for _ in range(3 if quick else 25):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        samples.append((time.perf_counter() - t0) * 1000 / reps)
    return statistics.median(samples), len(samples)


rows = []
loss_fn = nn.BCEWithLogitsLoss()
for b in ([64] if quick else [64, 256]):
    model = card()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xb = x[:b]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), xb)
        loss.backward()
        opt.step()
        return loss

    first = float(step())
    ms, n = measure(step)
    ours = meta['loss64'] if b == 64 else meta['loss256']
    rows.append({'id': f'train step, batch {b}', 'section': 'train', 'metric': 'samples/s', 'value': b * 1000 / ms, 'p50': ms,
                 'samples': n, 'firstLoss': first, 'note': f'first-step BCE {first:.6f} (ours {ours:.6f})'})

model = card()
for b in [1, 256]:
    xb = x[:b]
    with torch.inference_mode():
        def infer():
            return torch.sigmoid(model(xb))
        got = infer().numpy().ravel()
        want = part('out1' if b == 1 else 'out256').numpy()[:b * 784]
        diff = float(np.abs(got - want).max())
        ms, n = measure(infer)
    note = f'max |Δ| vs ours {diff:.1e}'
    if b == 1:
        rows.append({'id': 'infer latency, batch 1', 'section': 'infer', 'metric': 'µs', 'value': ms * 1000, 'p50': ms, 'samples': n, 'note': note})
    else:
        rows.append({'id': 'infer throughput, batch 256', 'section': 'infer', 'metric': 'samples/s', 'value': b * 1000 / ms, 'p50': ms, 'samples': n, 'note': note})

# Which BLAS: what torch was built against, and which library this process actually mapped.
blas_info = next((l.split('=', 1)[1].strip().rstrip(',') for l in torch.__config__.show().replace(', ', '\n').splitlines() if 'BLAS_INFO' in l), 'unknown')
mapped = sorted({l.split('/')[-1].strip() for l in open('/proc/self/maps') if 'blas' in l.lower()})
label = f'PyTorch {torch.__version__} native, 1 thread (BLAS_INFO={blas_info}; loaded: {", ".join(mapped) or "none"})'
json.dump({'impl': 'torch', 'label': label, 'opts': {}, 'rows': rows}, open(out, 'w'), indent=1)
print(f'  {label}', file=sys.stderr)
for r in rows:
    print(f"  {'PyTorch':40} {r['id']:34} {r['value']:.4g} {r['metric']}  {r['note']}", file=sys.stderr)
