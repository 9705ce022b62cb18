"""One training step side by side: alukit's old and lean eager steps, its compiled step and plain-PyTorch references.

For 13 → 4 hidden layers of width W → 8, batch 50, E members, with and without a 50 % weight mask
(DSR's sparse start: masked weights and their Adam moments zero), each implementation trains the
same ensemble for the same mini-batches; timings are interleaved (every implementation once per
round), and the median over rounds is reported, in this thread's CPU time (``time.thread_time``:
robust to other processes sharing the cores; the wall-clock median is kept as ``wall_us_per_member_step``). Implementations:

* ``old`` — :func:`alukit.engine.kernel` eager: the per-layer reference step;
* ``lean`` — :func:`alukit.engine.lean_kernel` on :class:`~alukit.engine.FlatBuffers` (bit-identical to ``old``);
* ``compiled`` — :func:`alukit.engine.kernel` through ``torch.compile`` (what long runs use);
* ``compiled_lean`` — the lean step through ``torch.compile`` (measured only; not what training uses);
* ``fused_adam`` — the lean forward/backward, then one ``torch._fused_adam_`` over the flat buffers;
* ``autograd`` — ``baddbmm`` forward, autograd backward, ``torch.optim.Adam(fused=True)``;
* ``gemm`` — the step's matrix products alone (forward, weight gradients, back-propagation).

Per implementation: µs per member-step, GFLOP/s (6·B·Σ n_in·n_out FLOPs per member-step, dense count
also for masked weights), % of a 2048² SGEMM measured in the same run, and ATen ops per step (``torch.profiler``:
all ``aten::`` events, nested ones included, and the top-level ones). One torch thread; the
step runs with subnormals flushed, as training does.

``python -m alukit bench train_step [--json] [--quick] [--widths 25 50 128] [--models 10 40 80]
[--repeats 7] [--no-compile] [--save]``
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from alukit.book.bench import sgemm_gflops

N_IN, N_OUT, BATCH, DEPTH = 13, 8, 50, 4
BETAS, EPS, LR = (0.9, 0.999), 1e-8, 1e-3
EPOCH_STEPS = 4000  # mini-batches per epoch of the paper's 199 960 training pairs


def _state(width: int, models: int, masked: bool, seed: int = 0) -> dict:
    """He-normal weights ``(E, a, b)``, zero biases ``(E, 1, b)``, 0/1 masks (50 % zeros) or [], zero moments."""
    g = torch.Generator().manual_seed(seed)
    dims = [N_IN] + [width] * DEPTH + [N_OUT]
    Ws = [torch.randn(models, a, b, generator=g) * math.sqrt(2 / a) for a, b in zip(dims[:-1], dims[1:])]
    bs = [torch.zeros(models, 1, b) for b in dims[1:]]
    masks = [(torch.rand(w.shape, generator=g) >= 0.5).float() for w in Ws] if masked else []
    for w, m in zip(Ws, masks):
        w.mul_(m)
    return {"dims": dims, "Ws": Ws, "bs": bs, "masks": masks}


def _batches(models: int, count: int = 8, seed: int = 1) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(models, BATCH, N_IN, generator=g), torch.randn(models, BATCH, N_OUT, generator=g))
            for _ in range(count)]


def _flags(masked: bool) -> tuple:
    return (False, masked, True, True, BETAS, EPS)


def _scalars():
    """``(step_size, bc2s)`` 0-d tensors at Adam step 100 (set once: the kernels only read them)."""
    t = 100
    return torch.tensor(LR / (1 - BETAS[0] ** t)), torch.tensor(math.sqrt(1 - BETAS[1] ** t))


def _old(st: dict, compiled: bool):
    from alukit.training import engine

    step = engine.kernel(_flags(bool(st["masks"])), compiled)
    Ws, bs = [w.clone() for w in st["Ws"]], [b.clone() for b in st["bs"]]
    mW, vW = [torch.zeros_like(w) for w in Ws], [torch.zeros_like(w) for w in Ws]
    mb, vb = [torch.zeros_like(b) for b in bs], [torch.zeros_like(b) for b in bs]
    lams, (ss_, bc), acc = torch.zeros(len(Ws)), _scalars(), torch.zeros(Ws[0].shape[0])
    return lambda x, y: step(x, y, Ws, bs, [], st["masks"], mW, vW, mb, vb, [], [], lams, ss_, bc, acc)


def _flat(st: dict):
    from alukit.training import engine

    Ws, bs = [w.clone() for w in st["Ws"]], [b.clone() for b in st["bs"]]
    zeros = [torch.zeros_like(t) for t in Ws + bs]
    fb = engine.FlatBuffers(Ws, [], bs, (zeros, zeros), torch.zeros(len(Ws)))
    fb.sync_masks(st["masks"])
    return fb


def _lean(st: dict, compiled: bool = False):
    from alukit.training import engine

    flags, fb = _flags(bool(st["masks"])), _flat(st)
    step = torch.compile(engine._make_lean_step(*flags), dynamic=False) if compiled else engine.lean_kernel(flags)
    (ss_, bc), acc = _scalars(), torch.zeros(st["Ws"][0].shape[0])
    return lambda x, y: step(x, y, fb, ss_, bc, acc)


def _fused_adam(st: dict):
    """:func:`alukit.engine.lean_gradients`, then one ``torch._fused_adam_`` over the flat buffers."""
    from alukit.training import engine

    fb, acc, t = _flat(st), torch.zeros(st["Ws"][0].shape[0]), [torch.tensor(100.0)]
    masked = bool(st["masks"])

    def step(x, y):
        engine.lean_gradients(x, y, fb, acc, False, masked, True, True)
        torch._fused_adam_([fb.P], [fb.G], [fb.M], [fb.V], [], t, lr=LR, beta1=BETAS[0], beta2=BETAS[1],
                           weight_decay=0.0, eps=EPS, amsgrad=False, maximize=False)

    return step


def _autograd(st: dict):
    Ws = [w.clone().requires_grad_() for w in st["Ws"]]
    bs = [b.clone().requires_grad_() for b in st["bs"]]
    opt, masks = torch.optim.Adam(Ws + bs, lr=LR, betas=BETAS, eps=EPS, fused=True), st["masks"]

    def step(x, y):
        h = x
        for i, (w, b) in enumerate(zip(Ws, bs)):
            h = torch.baddbmm(b, h, w * masks[i] if masks else w)
            h = torch.relu(h) if i < len(Ws) - 1 else h
        loss = ((h - y) ** 2).mean((1, 2)).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def run(x, y):
        with torch.enable_grad():
            step(x, y)

    return run


def _gemm(st: dict):
    Ws, bs = st["Ws"], st["bs"]

    def step(x, y):
        hs, h = [x], x
        for w, b in zip(Ws, bs):
            h = torch.baddbmm(b, h, w)
            hs.append(h)
        d = h
        for i in range(len(Ws) - 1, -1, -1):
            torch.bmm(hs[i].transpose(1, 2), d)
            if i > 0:
                d = torch.bmm(d, Ws[i].transpose(1, 2))

    return step


def _impls(st: dict, compile: bool) -> dict:
    out = {"old": _old(st, False), "lean": _lean(st)}
    if compile:
        out["compiled"] = _old(st, True)
        out["compiled_lean"] = _lean(st, True)
    out.update(fused_adam=_fused_adam(st), autograd=_autograd(st), gemm=_gemm(st))
    return out


def _aten_ops(fn, batches) -> tuple[float, float]:
    """ATen ops per step over ``len(batches)`` steps (``torch.profiler``): all ``aten::`` events
    (nested ones included) and the top-level ones (the ops Python calls)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for x, y in batches:
            fn(x, y)
    events = [e for e in prof.events() if e.name.startswith("aten::")]
    top = [e for e in events if e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::")]
    return len(events) / len(batches), len(top) / len(batches)


def _time(fn, batches, steps: int) -> tuple[float, float]:
    """``(wall, CPU)`` seconds of ``steps`` steps; CPU time is this thread's (other processes' load excluded)."""
    t, c = time.perf_counter(), time.thread_time()
    for s in range(steps):
        fn(*batches[s % len(batches)])
    return time.perf_counter() - t, time.thread_time() - c


def measure(width: int, masked: bool, models: int, repeats: int, compile: bool, budget: float) -> dict:
    """One shape: ``{impl: {us_per_member_step, gflops, aten_ops, compile_seconds?}}``."""
    st, batches = _state(width, models, masked), _batches(models)
    impls = _impls(st, compile)
    compile_s = {}
    for name, fn in impls.items():  # warm-up (compiles)
        t = time.perf_counter()
        fn(*batches[0])
        compile_s[name] = time.perf_counter() - t
    per = max(_time(impls["old"], batches, 3)[1] / 3, 1e-6)
    steps = max(3, int(budget / per))
    times: dict[str, list] = {name: [] for name in impls}
    for _ in range(repeats):
        for name, fn in impls.items():
            times[name].append(_time(fn, batches, steps))
    flops = 6 * BATCH * sum(a * b for a, b in zip(st["dims"][:-1], st["dims"][1:])) * models
    out = {}
    for name, fn in impls.items():
        sec = statistics.median(c for _, c in times[name]) / steps
        ops, top = _aten_ops(fn, batches[:4])
        out[name] = {"us_per_member_step": sec / models * 1e6, "gflops": flops / sec / 1e9, "aten_ops": ops,
                     "aten_ops_top_level": top,
                     "wall_us_per_member_step": statistics.median(w for w, _ in times[name]) / steps / models * 1e6}
    for name in ("compiled", "compiled_lean"):
        if name in out:
            out[name]["compile_seconds"] = compile_s[name]
    return out


def _summary(rows: list, sgemm: float) -> dict:
    """Speed-ups of ``lean`` over ``old`` and ``compiled`` over the fastest training step, per shape."""
    out = {}
    for r in rows:
        shape = f"{'DSR' if r['masked'] else 'dense'} {DEPTH}x{r['width']} E={r['models']}"
        steps = {k: v["us_per_member_step"] for k, v in r["impls"].items() if k not in ("gemm", "compiled_lean")}
        for v in r["impls"].values():
            v["pct_sgemm"] = 100 * v["gflops"] / sgemm
        out[shape] = {"lean_speedup": steps["old"] / steps["lean"]}
        if "compiled" in steps:
            out[shape]["compiled_over_best"] = steps["compiled"] / min(steps.values())
    return out


def run(widths=(25, 50, 128), models=(10, 40, 80), repeats: int = 7, compile: bool = True,
        budget: float = 0.05) -> dict:
    """The bench: every width × (dense, 50 % mask) × E; ``budget`` CPU seconds per timed block."""
    from alukit.training.engine import flush_denormals

    torch.set_num_threads(1)
    rows = []
    with flush_denormals(), torch.no_grad():
        sgemm = sgemm_gflops()
        for width in widths:
            for masked in (False, True):
                for e in models:
                    rows.append({"width": width, "masked": masked, "models": e,
                                 "impls": measure(width, masked, e, repeats, compile, budget)})
        sgemm = max(sgemm, sgemm_gflops())
    summary = _summary(rows, sgemm)
    head = max(rows, key=lambda r: (r["masked"], r["width"], -r["models"]))
    epoch = head["models"] * EPOCH_STEPS * 1e-6  # µs per member-step → seconds per epoch
    return {
        "measured": (f"one training step, 13 → {DEPTH}×W → 8, batch {BATCH}, W in {list(widths)}, E in {list(models)}, "
                     "dense and 50 % masked, 1 torch thread, median of "
                     f"{repeats} (thread CPU time); shown: one paper epoch ({EPOCH_STEPS} steps) of "
                     f"{'DSR' if head['masked'] else 'dense'} {DEPTH}x{head['width']}, E={head['models']}: the lean "
                     "eager step (ours) vs the old eager step (reference)"),
        "ours_seconds": head["impls"]["lean"]["us_per_member_step"] * epoch,
        "reference_seconds": head["impls"]["old"]["us_per_member_step"] * epoch,
        "ratio": head["impls"]["old"]["us_per_member_step"] / head["impls"]["lean"]["us_per_member_step"],
        "target": ">= 2x (lean vs old eager, DSR 4x128)",
        "sgemm_gflops": sgemm, "summary": summary, "rows": rows, "repeats": repeats,
    }


def _print(result: dict) -> None:
    print(result["measured"])
    print(f"SGEMM 2048²: {result['sgemm_gflops']:.1f} GFLOP/s")
    print(f"{'shape':<20} {'impl':<13} {'µs/member-step':>15} {'GFLOP/s':>8} {'% SGEMM':>8} {'ATen ops':>9} {'top':>5}")
    for r in result["rows"]:
        shape = f"{'DSR' if r['masked'] else 'dense'} {DEPTH}x{r['width']} E={r['models']}"
        for name, v in r["impls"].items():
            print(f"{shape:<20} {name:<13} {v['us_per_member_step']:15.1f} {v['gflops']:8.2f} {v['pct_sgemm']:8.1f} "
                  f"{v['aten_ops']:9.0f} {v['aten_ops_top_level']:5.0f}")
            shape = ""
    for shape, s in result["summary"].items():
        extra = f", compiled / best {s['compiled_over_best']:.2f}" if "compiled_over_best" in s else ""
        print(f"{shape}: lean {s['lean_speedup']:.2f}x faster than old{extra}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m alukit bench train_step", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="width 25, E = 10, 2 rounds, no compile (seconds)")
    ap.add_argument("--widths", type=int, nargs="+", default=[25, 50, 128])
    ap.add_argument("--models", type=int, nargs="+", default=[10, 40, 80])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-compile", action="store_true")
    args = ap.parse_args(argv)
    if min(args.widths + args.models + [args.repeats]) < 1:
        raise ValueError("--widths, --models and --repeats must be positive integers")
    from alukit.book.bench import report

    if args.quick:
        result = run((25,), (10,), 2, False, 0.01)
    else:
        result = run(tuple(args.widths), tuple(args.models), args.repeats, not args.no_compile)
    if not args.json:
        _print(result)
    report(result, True) if args.json else report_quiet(report, result)
    return 0


def report_quiet(report, result: dict) -> None:
    """Save (``--save``) without printing the table twice."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        report(result, True)


if __name__ == "__main__":
    raise SystemExit(main())
