"""Training configurations: the paper's 16 rows × two variants, validated.

A :class:`Config` holds every hyperparameter of one row of Tables 2–4 (method,
L1, SWA, network, optimiser, schedules). :func:`make_config` builds it from a
name such as ``"mp+l1+swa"`` and a variant:

``faithful``
    as the published code ran it (chapter 6 of the book lists its defects): 4 hidden
    layers, STR/DSR without bias and with output-fan He init, MP's threshold
    arithmetic (4 × "25 %" → 33.2 %), MP/DSR weights frozen from the first
    prune / reallocation on, SWA = equal average of end-of-epoch weights over
    the last 25 % of epochs under the method's StepLR, "+swa" rows separately
    seeded.
``corrected``
    what the methods mean: biases everywhere, input-fan He init, persistent
    masks with the remaining weights training, pruning relative to the
    remaining weights (→ 68.4 %), DSR regrowth at zero with reset optimiser
    state, SWA via ``torch.optim.swa_utils`` (SWALR to a constant lr over the
    last 25 % of epochs) taken from the same run as its non-SWA twin.

Epoch numbers in schedules are 1-based "after epoch k": ``prune_epochs=(10,)``
prunes when the 10th epoch has finished. Every field can be overridden;
:meth:`Config.validate` raises ``ValueError`` naming the field and the allowed
values before any work starts.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

CONFIG_NAMES: tuple[str, ...] = (
    "dense", "dense+swa", "l1", "l1+swa",
    "str", "str+l1", "str+swa", "str+l1+swa",
    "mp", "mp+l1", "mp+swa", "mp+l1+swa",
    "dsr", "dsr+l1", "dsr+swa", "dsr+l1+swa",
)
VARIANTS: tuple[str, ...] = ("faithful", "corrected")
METHODS: tuple[str, ...] = ("dense", "str", "mp", "dsr")

# Per base method, as the code ran it: hidden widths, epochs, StepLR (step, from epoch), bias.
_BASE = {
    "dense": dict(hidden=(25, 25, 25, 25), epochs=100, lr_step=10, lr_from=0, bias=True),
    "l1": dict(hidden=(25, 25, 25, 25), epochs=100, lr_step=20, lr_from=0, bias=True),
    "str": dict(hidden=(25, 25, 25, 25), epochs=100, lr_step=10, lr_from=0, bias=False),
    "mp": dict(hidden=(64, 64, 64, 64), epochs=100, lr_step=10, lr_from=40, bias=True),
    "dsr": dict(hidden=(128, 128, 128, 128), epochs=200, lr_step=25, lr_from=100, bias=False),
}


@dataclass(frozen=True)
class Config:
    """One training configuration (all fields JSON-serialisable; see module docstring)."""

    name: str
    variant: str
    method: str
    l1: float = 0.0
    l1_input: float | None = None
    swa: bool = False
    hidden: tuple[int, ...] = (25, 25, 25, 25)
    n_in: int = 13
    n_out: int = 8
    bias: bool = True
    init_fan: str = "in"
    epochs: int = 100
    batch_size: int = 50
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    lr_step: int = 10
    lr_gamma: float = 0.1
    lr_from: int = 0
    s_init: float = -2.0
    prune_epochs: tuple[int, ...] = ()
    prune_amount: float = 0.25
    prune_mode: str = "faithful"
    freeze: bool = False
    dsr_sparsity: float = 0.5
    dsr_every: int = 25
    dsr_np: int = 150
    dsr_delta: float = 0.1
    dsr_h0: float = 1e-3
    dsr_regrow: str = "kaiming"
    swa_fraction: float = 0.25
    swa_mode: str = "faithful"
    swa_lr: float = 1e-4
    swa_anneal_epochs: int = 5
    seed_group: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    # -- derived ---------------------------------------------------------------
    @property
    def dims(self) -> tuple[int, ...]:
        """Layer widths ``(n_in, *hidden, n_out)``."""
        return (self.n_in, *self.hidden, self.n_out)

    @property
    def swa_start(self) -> int:
        """First 0-based epoch whose end-of-epoch weights enter the SWA average."""
        return self.epochs - max(1, round(self.swa_fraction * self.epochs))

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("extra")
        return d

    def scaled(self, epochs: int) -> "Config":
        """The same configuration over ``epochs`` epochs, every schedule scaled proportionally."""
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer; got {epochs!r}")
        if epochs == self.epochs:
            return self
        f = epochs / self.epochs

        def sc(k):
            return max(1, round(k * f))

        return dataclasses.replace(
            self,
            epochs=epochs,
            lr_step=sc(self.lr_step),
            lr_from=round(self.lr_from * f),
            prune_epochs=tuple(sorted({min(epochs, sc(k)) for k in self.prune_epochs})),
            dsr_every=sc(self.dsr_every),
            swa_anneal_epochs=sc(self.swa_anneal_epochs),
        ).validate()

    def validate(self) -> "Config":
        """Raise ``ValueError`` naming the first bad field and what is allowed; return self."""

        def bad(name, allowed):
            raise ValueError(f"config {self.name!r}: {name} must be {allowed}; got {getattr(self, name)!r}")

        def is_int(v):
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v

        if self.variant not in VARIANTS:
            bad("variant", f"one of {', '.join(VARIANTS)}")
        if self.method not in METHODS:
            bad("method", f"one of {', '.join(METHODS)}")
        if not is_num(self.l1) or self.l1 < 0:
            bad("l1", "a number >= 0")
        if self.l1_input is not None and (not is_num(self.l1_input) or self.l1_input < 0):
            bad("l1_input", "None or a number >= 0")
        if not isinstance(self.swa, bool):
            bad("swa", "True or False")
        if not self.hidden or not all(is_int(h) and h >= 1 for h in self.hidden):
            bad("hidden", "a non-empty tuple of positive integers")
        for name in ("n_in", "n_out", "epochs", "batch_size", "lr_step", "dsr_every", "dsr_np", "swa_anneal_epochs"):
            if not is_int(getattr(self, name)) or getattr(self, name) < 1:
                bad(name, "a positive integer")
        if self.init_fan not in ("in", "out"):
            bad("init_fan", "'in' or 'out'")
        for name in ("lr", "eps", "dsr_h0", "swa_lr"):
            if not is_num(getattr(self, name)) or getattr(self, name) <= 0:
                bad(name, "a number > 0")
        if len(self.betas) != 2 or not all(is_num(b) and 0 <= b < 1 for b in self.betas):
            bad("betas", "two numbers in [0, 1)")
        if not is_num(self.lr_gamma) or not 0 < self.lr_gamma <= 1:
            bad("lr_gamma", "a number in (0, 1]")
        if not is_int(self.lr_from) or not 0 <= self.lr_from < self.epochs:
            bad("lr_from", f"an integer in [0, epochs={self.epochs})")
        if not is_num(self.s_init):
            bad("s_init", "a finite number")
        if not all(is_int(k) and 1 <= k <= self.epochs for k in self.prune_epochs) or list(self.prune_epochs) != sorted(set(self.prune_epochs)):
            bad("prune_epochs", f"increasing epochs in [1, epochs={self.epochs}]")
        if self.method == "mp" and not self.prune_epochs:
            bad("prune_epochs", "at least one epoch for method 'mp'")
        if not is_num(self.prune_amount) or not 0 < self.prune_amount < 1:
            bad("prune_amount", "a fraction in (0, 1)")
        if self.prune_mode not in ("faithful", "iterative"):
            bad("prune_mode", "'faithful' or 'iterative'")
        if not isinstance(self.freeze, bool):
            bad("freeze", "True or False")
        if not is_num(self.dsr_sparsity) or not 0 <= self.dsr_sparsity < 1:
            bad("dsr_sparsity", "a fraction in [0, 1)")
        if self.method == "dsr" and self.dsr_every > self.epochs:
            bad("dsr_every", f"at most epochs={self.epochs}")
        if not is_num(self.dsr_delta) or not 0 <= self.dsr_delta < 1:
            bad("dsr_delta", "a fraction in [0, 1)")
        if self.dsr_regrow not in ("kaiming", "zero"):
            bad("dsr_regrow", "'kaiming' or 'zero'")
        if not is_num(self.swa_fraction) or not 0 < self.swa_fraction <= 1:
            bad("swa_fraction", "a fraction in (0, 1]")
        if self.swa_mode not in ("faithful", "torch"):
            bad("swa_mode", "'faithful' or 'torch'")
        return self


def parse_name(name: str) -> tuple[str, bool, bool]:
    """``"mp+l1+swa"`` → ``("mp", True, True)``: base method, L1, SWA."""
    if name not in CONFIG_NAMES:
        raise ValueError(f"config name must be one of {', '.join(CONFIG_NAMES)}; got {name!r}")
    parts = name.split("+")
    base = parts[0]
    l1 = base == "l1" or "l1" in parts[1:]
    return ("dense" if base == "l1" else base), l1, "swa" in parts


def make_config(name: str, variant: str = "faithful", **overrides) -> Config:
    """The configuration ``name`` (one of :data:`CONFIG_NAMES`) in ``variant``, with overrides.

    Unknown names, variants or override fields raise ``ValueError`` listing what is allowed.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
    method, l1, swa = parse_name(name)
    base = dict(_BASE["l1" if (method == "dense" and l1) else method])
    faithful = variant == "faithful"
    kw: dict = dict(name=name, variant=variant, method=method, l1=1e-4 if l1 else 0.0, swa=swa, **base)
    if not faithful:
        kw.update(bias=True)
    kw["init_fan"] = "out" if faithful and method in ("str", "dsr") else "in"
    if method == "mp":
        kw.update(prune_epochs=(10, 20, 30, 40), prune_amount=0.25,
                  prune_mode="faithful" if faithful else "iterative", freeze=faithful)
    if method == "dsr":
        kw.update(freeze=faithful, dsr_regrow="kaiming" if faithful else "zero")
    kw["swa_mode"] = "faithful" if faithful else "torch"
    # faithful "+swa" rows are separately seeded runs; corrected twins share one run
    kw["seed_group"] = name if faithful else name.replace("+swa", "")
    fields = {f.name for f in dataclasses.fields(Config)} - {"extra"}
    unknown = set(overrides) - fields
    if unknown:
        raise ValueError(f"unknown config field(s) {sorted(unknown)}; allowed: {', '.join(sorted(fields))}")
    kw.update(overrides)
    for key in ("hidden", "prune_epochs", "betas"):
        if key in kw and isinstance(kw[key], list):
            kw[key] = tuple(kw[key])
    return Config(**kw).validate()


def as_config(config, variant: str = "faithful") -> Config:
    """A :class:`Config` from a name (built in ``variant``) or a Config (validated, returned)."""
    if isinstance(config, Config):
        return config.validate()
    if isinstance(config, str):
        return make_config(config, variant)
    raise ValueError(f"config must be a name ({', '.join(CONFIG_NAMES)}) or a Config; got {type(config).__name__}")


def config_hash(config: Config, *, run: bool = False) -> str:
    """Stable 16-hex hash of every field. ``run=True`` hashes the training run only.

    A run is what gets trained: for ``swa_mode="torch"`` the SWA model and its twin
    come from one run, so the ``name`` and ``swa`` fields are left out of the run hash.
    """
    d = config.to_dict()
    if run:
        d.pop("name")
        if config.swa_mode == "torch":
            d.pop("swa")
    blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
