"""Training configurations: the paper's 16 rows × two variants, validated.

A :class:`Config` holds every hyperparameter of one row of Tables 2–4 (method,
L1, SWA, network, optimiser, schedules). :func:`make_config` builds it from a
name such as ``"mp+l1+swa"`` and a variant:

``faithful``
    as the authors' code ran it and as their released models show: 4 hidden layers, STR/DSR without bias
    and with output-fan He init, MP's threshold arithmetic (4 × "25 %" → 33.2 %),
    MP/DSR weights frozen from the first prune / reallocation on, SWA = equal
    average of end-of-epoch weights under the method's StepLR, "+swa" rows
    separately seeded, each DSR row with the width, sparsity, Np and initial H
    of its released models, every schedule at the epochs their loops use.
``corrected``
    what the methods mean, at the paper's stated design (DSR 4 × 128 at 50 %,
    Np 150, because that is what the paper claims to study): biases everywhere,
    input-fan He init, persistent masks with the remaining weights training,
    pruning relative to the remaining weights (→ 68.4 %), DSR regrowth at zero
    with reset optimiser state, SWA via ``torch.optim.swa_utils`` (SWALR to a
    constant lr over the last 25 % of epochs) taken from the same run as its
    non-SWA twin.

Epoch numbers in schedules are 1-based "after epoch k": ``prune_epochs=(10,)``
prunes when the 10th epoch has finished. The authors' loops count epochs from 0
and act at the end of epoch ``e``, i.e. after 1-based epoch ``e + 1``. Every field
can be overridden; :meth:`Config.validate` raises ``ValueError`` naming the field
and the allowed values before any work starts.

Facts from the authors' code and released models
------------------------------------------------
Read from the repository ``emilhaugstvedt/sparsity``: the training scripts
(``<method>/train.py``, module-level hyperparameters and the epoch loop), the
network classes, and the released models' saved attributes, shapes and SWA
counters (``n_averaged``). "0-based e" is their loop variable.

===========  =================================================================
method       fact (source)
===========  =================================================================
Dense        4 × 25, 100 epochs, batch 50, Adam 1e-3; StepLR(10, 0.1) stepped
             after every epoch from the first (``dense_net/train.py``, epoch
             loop). SWA averages after 0-based e > 75, i.e. after 1-based
             epochs 77..100: 24 models (loop; released ``swa_model_*`` have
             ``n_averaged`` = 24) → ``swa_fraction`` 0.24, ``swa_start`` 76.
             Early stopping (patience 30 from epoch 30) is in the loop; the
             released SWA models' count of 24 shows their runs reached the last
             epoch. It is not modelled here.
L1           as Dense, λ = 1e-4 over all weight matrices, StepLR step 20
             (``L1_regularization/train.py``); SWA 24 models as Dense
             (released ``n_averaged`` = 24).
STR          4 × 25 without bias, s_init −2, StepLR(10) from the first epoch
             (``soft_thresholding/train.py``). SWA averages after 0-based
             e ≥ 75: 25 models (loop; released ``n_averaged`` = 25) →
             ``swa_fraction`` 0.25, ``swa_start`` 75.
MP           4 × 64; prunes when 0-based e ∈ {10, 20, 30, 40}, at the end of
             the epoch (``magnitude_pruning/train.py``, pruning schedule) →
             1-based ``prune_epochs`` (11, 21, 31, 41), not (10, 20, 30, 40).
             Pruning replaces the weight Parameter after the optimiser was
             built (``MagnitudePruning.prune``), so weights freeze from the
             first prune on. StepLR(10) stepped after 0-based e ≥ 40 →
             ``lr_from`` 40. SWA after 0-based e > 75: 24 models (released
             ``n_averaged`` = 24) → ``swa_fraction`` 0.24.
DSR          200 epochs, no bias, Kaiming init on the (n_in, n_out) weight
             (output fan), exactly ⌊n·(1 − s)⌋ non-zeros per layer at init,
             δ = 0.1 (``DynamicSparseReparameterizationNet``, layer and net
             constructors; ``fractional_tolerance`` = 0.1 in every released
             model). Reallocates when 0-based e ∈ [0, 100] and e % 25 == 0,
             after the epoch's training → after 1-based epochs 1, 26, 51, 76,
             101: five reallocations (``dynamic_sparse_reparameterization/
             train.py``, epoch loop) → ``dsr_first`` 1, ``dsr_every`` 25,
             ``dsr_last`` 101. StepLR(25) stepped only after 0-based e > 100 →
             ``lr_from`` 101. SWA after 0-based e > 175: 24 models (loop;
             released ``swa_model_*`` ``n_averaged`` = 24) → ``swa_fraction``
             0.12, ``swa_start`` 176. Pruning replaces the weight Parameter
             (layer ``prune``), so the weights freeze after the first
             reallocation, i.e. after one epoch of training.
===========  =================================================================

The four DSR rows as released (saved attributes of ``models/alu/DSR/…``):

==============  ======================  ======  ========  =========  ====  =====
row             released files          hidden  sparsity  H final    Np    H0
==============  ======================  ======  ========  =========  ====  =====
DSR             ``0.5/model_*``         4 × 50  0.5       0.02/0.04  250   0.01
DSR + L1        ``l1/model_*``          4 × 128 0.1       0.002      150   0.001
DSR + SWA       ``0.1/swa_model_*``     4 × 128 0.1       —          —     0.001
DSR + L1 + SWA  ``l1/swa_model_*``      4 × 128 0.1       —          —     0.001
==============  ======================  ======  ========  =========  ====  =====

The "+swa" rows' state dicts hold no H or Np; their widths and zero fractions
(0.10; 0.13–0.15 with L1) match the 4 × 128 / 0.1 runs of the committed script,
whose Np is 150. DSR + L1's λ is 1e-4, the only non-zero value the DSR script
ever had. The DSR row's weights, unlike the other three rows', trained for a long
time: their RMS is 0.39–0.46 and their largest magnitudes 4–7, where frozen
Kaiming weights (std √(2/50) = 0.2) would keep RMS ≈ 0.2, as the 4 × 128 rows'
weights do (RMS 0.11–0.13 against √(2/128) = 0.125). The weights show a run that
no committed script makes (next section): the faithful DSR row trains that way
(:data:`RELEASED_DSR_TRAINING`). Chapter 6 keeps two probes of the committed script's
reading (:data:`COMMITTED_DSR_READING`): trained on under the mask, and frozen after the
first reallocation.

The released DSR row's training (issue 21)
------------------------------------------
Read from the ten ``DSR/0.5/model_*`` files (layer attributes ``m`` non-zeros after the
last regrowth, ``r`` survivors of the last prune, ``k`` pruned; net ``H``, ``K``, ``Np``)
and the repository's history. No committed script made them (4 × 50, Np 250).

=================  ===================================================================
option             evidence
=================  ===================================================================
``init``           Outgoing weights of ReLU units that are never active (on 10 000 of
"uniform01"        this project's training pairs): 82.2 % positive, median 0.278
                   (n = 225, 34 of 2000 units) — their initial values, since nothing
                   reaches them. U(0, 1) gives 100 % / 0.5 and He ~50 %; the 4 × 128
                   rows give 50–51 %, median ≈ 0. The layer code before 2022-12-05
                   drew init and regrowth with ``torch.rand``; the Nov. 2022 files
                   ``DSR/0.5/model_0.5_*`` give 86 %, median 0.33.
trained first      Per-layer RMS of non-zeros 0.615, 0.400, 0.389, 0.447, 0.342, max
                   |w| 4.3–7.4: long training before the damage.
frozen             Non-zero |w| < 0.04 (below the last prune's H): 95.9 % of the last
reallocations      regrowth m − r in the seven H = 0.02 models (N(0, 0.02) puts
(``freeze``)       95.4 % there), 67.6 % in the three H = 0.04 ones (N(0, 0.04):
                   68.3 %); their std 0.0166–0.0181 and 0.0205–0.0212 against 0.0176
                   and 0.0216 for N(0, H) truncated there; mean ≈ 0. Trained weights
                   would have left that band: nothing learnt after the last
                   reallocation. ``best_model_N`` equals ``model_N`` bitwise (10/10).
three              Saved H 0.02 (7) / 0.04 (3), K 270–305 against Np 250: from
reallocations      H0 = 0.01, 0.01 → 0.02 → 0.04, then halved (K > 275) or kept.
``dsr_regrow``     The regrown band above is N(0, H) with H after its update (0.02
"normal"           where the last step halved H, 0.04 where it kept it); the committed
                   ``grow(K, R, H)`` takes an H it never uses.
``dsr_apportion``  Σ(m − r) = K − 1..3 in every model, and per layer m − r =
"floor"            ⌊r_l / R · K⌋ (model 1: r = 240, 1177, 1177, 1206, 180, K = 283 →
                   17, 83, 83, 85, 12; rounding would give 17, 84, 84, 86, 13): the
                   published layer's ``int(r / R * K)``; a full layer's excess is lost.
``dsr_live``       The published layer prunes and counts ``(|w| < H) & (w != 0)`` and
"nonzero"          ``m`` is its count of non-zeros: a regrown weight is live.
start              Not in the files: any start after a few tens of epochs fits, as
``dsr_first``      nothing learns after it. Chosen: after 1-based epoch 101, the end of
101                the committed DSR script's constant-lr phase (StepLR stepped after
                   0-based e > 100) and its last reallocation epoch, i.e. as long as
                   that script trains at lr 1e-3; then its 25-epoch cadence (126,
                   151). With frozen weights the spacing changes nothing.
=================  ===================================================================

The 4 × 128 rows, read the same way (``DSR/l1/model_*``, ``DSR/0.1/model_*`` and their
``swa_model_*``; ``best_*`` equals its twin bitwise in all 40 files): non-zero
|w| < H/2 = 0.001 — none of 167 / 21 / 134 / 13 non-zeros below H = 0.002 in
``l1``, ``0.1``, ``l1/swa``, ``0.1/swa`` (a last prune at 0.001, then no training:
with L1 training, weights would collect near zero); RMS of non-zeros 0.11–0.13 in
the hidden layers, 0.45–0.51 in the last (He on the output fan: √(2/128) = 0.125,
√(2/8) = 0.5); dead-unit outgoing weights 50–51 % positive, median ≈ 0 (He-era);
``swa_model_N`` and ``model_N`` have different zero patterns (separate runs). Zeros:
``0.1`` 0.100 (M = 46653 − 3..11: the floor rule's few losses), ``l1`` 0.118–0.148
(M = 46653 − 924..2503; layers 0 and 4 end full, layers 2–3 at 16–25 % zeros: a
full layer's share of the regrowth is lost, the floor rule). So those rows keep
their committed-code reading (He init, freeze after the first reallocation, He
regrowth) and take the published layer's ``dsr_live`` "nonzero" and ``dsr_apportion``
"floor", which are what their code did: faithful DSR + L1 (quick profile's data, full
schedule, 2 members) ends at 0.0999 zeros with today's rules and at 0.124 / 0.141
(layers 2–3 at 17–22 %, layers 0 and 4 full) with those two, as released.

Not established: the DSR row's exact loop and learning rates before the first
reallocation (see above); whether early stopping cut any non-SWA Dense/L1 run short.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field

__all__ = ["CONFIG_NAMES", "VARIANTS", "METHODS", "Config", "make_config", "as_config", "config_hash",
           "RELEASED_DSR_TRAINING", "COMMITTED_DSR_READING"]

CONFIG_NAMES: tuple[str, ...] = (
    "dense", "dense+swa", "l1", "l1+swa",
    "str", "str+l1", "str+swa", "str+l1+swa",
    "mp", "mp+l1", "mp+swa", "mp+l1+swa",
    "dsr", "dsr+l1", "dsr+swa", "dsr+l1+swa",
)
VARIANTS: tuple[str, ...] = ("faithful", "corrected")
METHODS: tuple[str, ...] = ("dense", "str", "mp", "dsr")

# Per base method, as the code ran it: hidden widths, epochs, StepLR (step, from epoch), bias.
# Both variants start from these; the corrected variant keeps them.
_BASE = {
    "dense": dict(hidden=(25, 25, 25, 25), epochs=100, lr_step=10, lr_from=0, bias=True),
    "l1": dict(hidden=(25, 25, 25, 25), epochs=100, lr_step=20, lr_from=0, bias=True),
    "str": dict(hidden=(25, 25, 25, 25), epochs=100, lr_step=10, lr_from=0, bias=False),
    "mp": dict(hidden=(64, 64, 64, 64), epochs=100, lr_step=10, lr_from=40, bias=True),
    "dsr": dict(hidden=(128, 128, 128, 128), epochs=200, lr_step=25, lr_from=100, bias=False),
}

# Faithful-only schedule facts (module docstring): SWA count over the epochs, MP's 0-based
# prune epochs as 1-based, DSR's StepLR start and reallocation epochs.
_FAITHFUL = {
    "dense": dict(swa_fraction=0.24),
    "l1": dict(swa_fraction=0.24),
    "str": dict(swa_fraction=0.25),
    "mp": dict(swa_fraction=0.24, prune_epochs=(11, 21, 31, 41)),
    "dsr": dict(swa_fraction=0.12, lr_from=101, dsr_first=1, dsr_last=101),
}

# The faithful DSR rows as their released models are (module docstring, second table).
# Initial H: H only ever doubles or halves once per reallocation, so a run's final H is
# H0 · 2^k with |k| ≤ 5 (five reallocations). 4 × 128 rows: every released model ends at
# H = 0.002 = 0.001 · 2, the script's default H0 = 0.001; replaying the rule on the init
# gives 0.001 → 0.0005 → 0.001 → 0.002 → 0.001 → 0.002, with 1–4 weights pruned in the
# last step as the models' saved K (1–4) shows. DSR row: final H is 0.02 (7 models) or
# 0.04 (3); all ten pruned K = 270–305 in their last step, outside (≥ 277) or inside
# (≤ 275) Np = 250 ± 10 %, so H was 0.04 before that step in every run, and
# H0 = 0.04 · 2^j. The script's defaults were 0.01 (Nov. 2022) and 0.001 (Dec. 2022);
# 0.04 / 0.001 = 40 is no power of two, 0.04 / 0.01 = 4 is: H0 = 0.01.
# How the released plain-DSR models (DSR/0.5/model_*) were trained, as their weights show (module
# docstring, "The released DSR row's training"): U(0, 1) initial weights at the active positions,
# 101 epochs of training, then three reallocations on frozen weights (after 1-based epochs 101,
# 126, 151; nothing learns after the first), each pruning non-zero weights with |w| < H and
# regrowing ⌊R_l/R·K⌋ per layer from N(0, H after its update). The faithful DSR row's default.
# Scaled to the quick profile (10 epochs: 5 trained, reallocations after 5, 6, 7) it reproduces the
# H path and the regrown band, but 5 epochs from U(0, 1) (initial MSE ~1e7) leave a training MSE of
# 4–43: the quick profile under-trains it.
RELEASED_DSR_TRAINING = dict(init="uniform01", freeze=True, dsr_first=101, dsr_every=25, dsr_last=151,
                             dsr_regrow="normal", dsr_live="nonzero", dsr_apportion="floor")

# The committed DSR script's reading (before issue 21): He init, reallocations after 1-based epochs
# 1, 26, ..., 101 with He regrowth, masks counting the active positions, per-layer shares rounded.
# Chapter 6's probes run the 4 × 50 row this way, frozen and trained on (reproduce.probe_configs).
COMMITTED_DSR_READING = dict(init="he", dsr_first=1, dsr_every=25, dsr_last=101, dsr_regrow="kaiming",
                             dsr_live="mask", dsr_apportion="round")

# The faithful DSR rows as their released models are (module docstring, second table).
# Initial H: H only ever doubles or halves once per reallocation, so a run's final H is
# H0 · 2^k with |k| ≤ 5 (five reallocations). 4 × 128 rows: every released model ends at
# H = 0.002 = 0.001 · 2, the script's default H0 = 0.001; replaying the rule on the init
# gives 0.001 → 0.0005 → 0.001 → 0.002 → 0.001 → 0.002, with 1–4 weights pruned in the
# last step as the models' saved K (1–4) shows. DSR row: final H is 0.02 (7 models) or
# 0.04 (3); all ten pruned K = 270–305 in their last step, outside (≥ 277) or inside
# (≤ 275) Np = 250 ± 10 %, so H was 0.04 before that step in every run, and
# H0 = 0.04 · 2^j. The script's defaults were 0.01 (Nov. 2022) and 0.001 (Dec. 2022);
# 0.04 / 0.001 = 40 is no power of two, 0.04 / 0.01 = 4 is: H0 = 0.01. The 4 × 128 rows prune
# and count the published layer's way (non-zero weights, floored shares: their zero fractions).
_PUBLISHED_LAYER = dict(dsr_live="nonzero", dsr_apportion="floor")
_RELEASED_DSR = {
    "dsr": dict(hidden=(50, 50, 50, 50), dsr_sparsity=0.5, dsr_np=250, dsr_h0=0.01, **RELEASED_DSR_TRAINING),
    "dsr+l1": dict(hidden=(128, 128, 128, 128), dsr_sparsity=0.1, dsr_np=150, dsr_h0=1e-3, **_PUBLISHED_LAYER),
    "dsr+swa": dict(hidden=(128, 128, 128, 128), dsr_sparsity=0.1, dsr_np=150, dsr_h0=1e-3, **_PUBLISHED_LAYER),
    "dsr+l1+swa": dict(hidden=(128, 128, 128, 128), dsr_sparsity=0.1, dsr_np=150, dsr_h0=1e-3,
                       **_PUBLISHED_LAYER),
}


# Fields added after runs were cached and results written: at their defaults (today's behaviour)
# they are left out of Config.to_dict, so every existing configuration keeps its hash.
_LATER_FIELDS = {"dsr_live": "mask", "dsr_apportion": "round", "init": "he"}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    """A real, finite number (not a bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


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
    dsr_first: int | None = None
    dsr_last: int | None = None
    dsr_np: int = 150
    dsr_delta: float = 0.1
    dsr_h0: float = 1e-3
    dsr_regrow: str = "kaiming"
    dsr_live: str = "mask"
    dsr_apportion: str = "round"
    init: str = "he"
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
    def dsr_epochs(self) -> tuple[int, ...]:
        """1-based epochs after which DSR reallocates: ``dsr_first`` (default ``dsr_every``),
        then every ``dsr_every`` epochs up to ``dsr_last`` (default: no bound), never after the
        final epoch. Empty for other methods."""
        if self.method != "dsr":
            return ()
        first = self.dsr_every if self.dsr_first is None else self.dsr_first
        last = self.epochs - 1 if self.dsr_last is None else min(self.dsr_last, self.epochs - 1)
        return tuple(range(first, last + 1, self.dsr_every))

    @property
    def swa_start(self) -> int:
        """First 0-based epoch whose end-of-epoch weights enter the SWA average."""
        return self.epochs - max(1, round(self.swa_fraction * self.epochs))

    def to_dict(self) -> dict:
        """Every field but ``extra``; the fields of :data:`_LATER_FIELDS` only where they differ from their defaults."""
        d = dataclasses.asdict(self)
        d.pop("extra")
        for name, default in _LATER_FIELDS.items():
            if d[name] == default:
                del d[name]
        return d

    def scaled(self, epochs: int) -> "Config":
        """The same configuration over ``epochs`` epochs (``f = epochs / self.epochs``), schedules shortened.

        The learning-rate schedule (StepLR step and start) and the prune epochs are
        multiplied by √f, not f: a run shortened 10× keeps ~3× more of its epochs at
        the starting learning rate and before its first prune than proportional
        scaling would, instead of spending them at learning rates decayed 10⁴–10⁹×.
        Prunes keep their number (moved to distinct epochs inside the run where they
        would collide). DSR's reallocation period and SWA's annealing scale with f, so
        a short run reallocates as often as the full one. f = 1 changes nothing.
        """
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer; got {epochs!r}")
        if epochs == self.epochs:
            return self
        f = epochs / self.epochs

        def sc(k, factor=f ** 0.5):
            return min(epochs, max(1, round(k * factor)))

        prunes = sorted(self.prune_epochs)
        spread: list[int] = []
        for j, k in enumerate(prunes):  # latest epoch that leaves room for the later prunes, after the previous one
            spread.append(max(min(sc(k), epochs - (len(prunes) - 1 - j)), spread[-1] + 1 if spread else 1))
        every = sc(self.dsr_every, f)
        first = None if self.dsr_first is None else sc(self.dsr_first, f)
        last = self.dsr_last
        if last is not None:  # keep the number of reallocations: same count of steps after the first
            start = self.dsr_every if self.dsr_first is None else self.dsr_first
            last = (every if first is None else first) + every * max(0, (last - start) // self.dsr_every)
        return dataclasses.replace(
            self,
            epochs=epochs,
            lr_step=sc(self.lr_step),
            lr_from=min(epochs - 1, round(self.lr_from * f ** 0.5)),
            prune_epochs=tuple(sorted({min(epochs, k) for k in spread})),
            dsr_every=every,
            dsr_first=first,
            dsr_last=last,
            swa_anneal_epochs=sc(self.swa_anneal_epochs, f),
        ).validate()

    def validate(self) -> "Config":
        """Raise ``ValueError`` naming the first bad field and what is allowed; return self."""
        for name, ok, allowed in self._rules():
            if not ok:
                raise ValueError(f"config {self.name!r}: {name} must be {allowed}; got {getattr(self, name)!r}")
        return self

    def _rules(self):
        """``(field, valid, what is allowed)`` for every field, in checking order (a later rule may rely on an
        earlier field being valid: the generator stops at the first failure)."""
        yield "variant", self.variant in VARIANTS, f"one of {', '.join(VARIANTS)}"
        yield "method", self.method in METHODS, f"one of {', '.join(METHODS)}"
        yield "l1", _is_num(self.l1) and self.l1 >= 0, "a number >= 0"
        yield "l1_input", self.l1_input is None or (_is_num(self.l1_input) and self.l1_input >= 0), \
            "None or a number >= 0"
        yield "swa", isinstance(self.swa, bool), "True or False"
        yield "hidden", bool(self.hidden) and all(_is_int(h) and h >= 1 for h in self.hidden), \
            "a non-empty tuple of positive integers"
        for name in ("n_in", "n_out", "epochs", "batch_size", "lr_step", "dsr_every", "dsr_np", "swa_anneal_epochs"):
            yield name, _is_int(getattr(self, name)) and getattr(self, name) >= 1, "a positive integer"
        yield "init_fan", self.init_fan in ("in", "out"), "'in' or 'out'"
        for name in ("lr", "eps", "dsr_h0", "swa_lr"):
            yield name, _is_num(getattr(self, name)) and getattr(self, name) > 0, "a number > 0"
        yield "betas", len(self.betas) == 2 and all(_is_num(b) and 0 <= b < 1 for b in self.betas), \
            "two numbers in [0, 1)"
        yield "lr_gamma", _is_num(self.lr_gamma) and 0 < self.lr_gamma <= 1, "a number in (0, 1]"
        yield "lr_from", _is_int(self.lr_from) and 0 <= self.lr_from < self.epochs, \
            f"an integer in [0, epochs={self.epochs})"
        yield "s_init", _is_num(self.s_init), "a finite number"
        yield "prune_epochs", all(_is_int(k) and 1 <= k <= self.epochs for k in self.prune_epochs) and \
            list(self.prune_epochs) == sorted(set(self.prune_epochs)), f"increasing epochs in [1, epochs={self.epochs}]"
        yield "prune_epochs", self.method != "mp" or bool(self.prune_epochs), "at least one epoch for method 'mp'"
        yield "prune_amount", _is_num(self.prune_amount) and 0 < self.prune_amount < 1, "a fraction in (0, 1)"
        yield "prune_mode", self.prune_mode in ("faithful", "iterative"), "'faithful' or 'iterative'"
        yield "freeze", isinstance(self.freeze, bool), "True or False"
        yield "dsr_sparsity", _is_num(self.dsr_sparsity) and 0 <= self.dsr_sparsity < 1, "a fraction in [0, 1)"
        yield "dsr_every", self.method != "dsr" or self.dsr_every <= self.epochs, f"at most epochs={self.epochs}"
        yield "dsr_first", self.dsr_first is None or (_is_int(self.dsr_first) and 1 <= self.dsr_first <= self.epochs), \
            f"None or an integer in [1, epochs={self.epochs}]"
        first = self.dsr_every if self.dsr_first is None else self.dsr_first
        yield "dsr_last", self.dsr_last is None or (_is_int(self.dsr_last) and self.dsr_last >= first), \
            f"None or an integer >= the first reallocation epoch {first}"
        yield "dsr_delta", _is_num(self.dsr_delta) and 0 <= self.dsr_delta < 1, "a fraction in [0, 1)"
        yield "dsr_regrow", self.dsr_regrow in ("kaiming", "zero", "normal"), "'kaiming', 'zero' or 'normal'"
        yield "dsr_live", self.dsr_live in ("mask", "nonzero"), "'mask' or 'nonzero'"
        yield "dsr_apportion", self.dsr_apportion in ("round", "floor"), "'round' or 'floor'"
        yield "init", self.init in ("he", "uniform01"), "'he' or 'uniform01'"
        yield "swa_fraction", _is_num(self.swa_fraction) and 0 < self.swa_fraction <= 1, "a fraction in (0, 1]"
        yield "swa_mode", self.swa_mode in ("faithful", "torch"), "'faithful' or 'torch'"


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
    if faithful:
        kw.update(_FAITHFUL["l1" if (method == "dense" and l1) else method])
        kw.update(_RELEASED_DSR.get(name, {}))
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
