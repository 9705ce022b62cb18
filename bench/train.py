"""Speed of the batched-ensemble trainer against one-model-at-a-time plain PyTorch.

Ten dense models (13 → 4×25 → 8, batch 50, Adam 1e-3, MSE) train for the same number
of mini-batch steps (a) as one :func:`alukit.training.engine.fit` ensemble and (b) one after
another with a plain PyTorch loop (``nn.Sequential``, ``torch.optim.Adam``,
``DataLoader(TensorDataset, batch_size=50, shuffle=True)``). A second reference
(``reference_lean``) replaces the DataLoader by slicing a pre-shuffled tensor, so
the ratio is also reported against the fastest plain loop. A warm-up run of (a)
(same data, so ``torch.compile`` compiles there) is reported separately as
``compile_seconds`` (compile + one run) and not timed in ``ours_seconds``. GFLOP/s count 6·B·Σ(n_in·n_out) FLOPs per model-step (forward 2,
backward 4) and are shown next to a 2048² float32 matmul measured in the same run.
Both sides use the same number of torch threads (``--threads``, default 1, the
trainer's per-worker setting).

``python -m alukit bench train [--json] [--steps N] [--models N] [--threads N]``
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn


def _matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    t = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2 * n**3 * repeats / (time.perf_counter() - t) / 1e9


def _reference(z, y, dims, seeds, steps, batch, dataloader: bool) -> float:
    """Plain PyTorch: one model after another, autograd + torch.optim.Adam."""
    t0 = time.perf_counter()
    zt, yt = torch.as_tensor(z), torch.as_tensor(y)
    for seed in seeds:
        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            lin = nn.Linear(a, b)
            nn.init.kaiming_normal_(lin.weight)
            layers += [lin, nn.ReLU()] if i < len(dims) - 2 else [lin]
        model = nn.Sequential(*layers)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.MSELoss()
        if dataloader:
            batches = iter(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(zt, yt), batch_size=batch, shuffle=True))
        else:
            perm = torch.randperm(len(zt))
            zs, ys = zt[perm], yt[perm]
            batches = ((zs[i:i + batch], ys[i:i + batch]) for i in range(0, len(zs), batch))
        for _, (xb, yb) in zip(range(steps), batches):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    return time.perf_counter() - t0


def run(steps: int = 2000, models: int = 10, threads: int = 1) -> dict:
    from alukit.training import config, engine

    torch.set_num_threads(threads)
    batch = 50
    cfg = config.make_config("dense", "faithful", epochs=1, lr_step=1)
    dims = cfg.dims
    rng = np.random.default_rng(0)
    n = steps * batch
    z = rng.standard_normal((n, dims[0])).astype(np.float32)
    y = np.tanh(z[:, : dims[-1]] * z[:, -dims[-1]:]).astype(np.float32)
    seeds = engine.member_seeds(0, "bench", models)
    compiled = engine.want_compile(None, 10**9, torch.device("cpu"))
    t = time.perf_counter()
    engine.fit(cfg, z, y, seeds, progress=False, compile=compiled, device="cpu")  # warm-up: compiles for these shapes
    compile_seconds = time.perf_counter() - t
    t = time.perf_counter()
    engine.fit(cfg, z, y, seeds, progress=False, compile=compiled, device="cpu")
    ours = time.perf_counter() - t
    reference = _reference(z, y, dims, seeds, steps, batch, dataloader=True)
    lean = _reference(z, y, dims, seeds, steps, batch, dataloader=False)
    flops = 6 * batch * sum(a * b for a, b in zip(dims[:-1], dims[1:])) * steps * models
    return {
        "ours_seconds": ours,
        "reference_seconds": reference,
        "ratio": reference / ours,
        "reference_lean_seconds": lean,
        "ratio_lean": lean / ours,
        "measured": (f"{models} dense models {dims}, batch {batch}, {steps} Adam steps each: batched ensemble "
                     f"(alukit.training.engine.fit, torch.compile={compiled}) vs one model at a time (nn.Sequential + "
                     f"torch.optim.Adam + DataLoader; lean: pre-shuffled slices), {threads} torch thread(s)"),
        "ours_gflops": flops / ours / 1e9,
        "reference_gflops": flops / reference / 1e9,
        "matmul_gflops": _matmul_gflops(),
        "compile_seconds": compile_seconds,
        "target": ">= 8x for 10 models",
        "compiled": compiled,
        "threads": threads,
        "steps": steps,
        "models": models,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m alukit bench train", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    for name in ("steps", "models", "threads"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be a positive integer; got {getattr(args, name)}")
    from alukit.book.bench import report

    report(run(args.steps, args.models, args.threads), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
