"""The comparative study's trained ensembles read as dependency graphs (chapter 7, "Truly sparse networks").

The first paper's interpretability and consistency findings (chapter 7) are tested there on
networks whose L1 penalty leaves no exact zeros. The comparative study trains networks that
are truly sparse (corrected DSR + L1 keeps about 2 % of its weights), and ``models.npz``
keeps them. :func:`scores` reads each inspected ensemble's path-product influence graph
(:func:`alukit.evaluation.interpret.influence`) and scores it against the cell's true
input → derivative table (:data:`alukit.process.cell.DEPENDENCIES`) with the first paper's
threshold, as chapter 7 does for its own networks; :func:`median_graph` gives one model's
graph to draw.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from alukit.evaluation import interpret
from alukit.evaluation.zeros import zero_fraction
from alukit.studies import sparse_dnn

__all__ = ["weights", "per_model", "scores", "compare", "median_graph", "METRICS", "COMPARED"]

METRICS = ("zeros", "precision", "recall", "f1", "auprc", "correlation")
COMPARED = ("f1", "auprc", "correlation")  # the first paper's findings 1 (interpretability) and 3 (consistency)


def weights(arrays: dict) -> list[np.ndarray]:
    """The layers ``(E, n_in, n_out)`` of one ensemble from its ``models.npz`` entry (the weights the rollouts use)."""
    return [np.asarray(arrays[f"weight{i}"]) for i in range(len(arrays["dims"]) - 1)]


def per_model(arrays: dict, threshold: float = interpret.THRESHOLD) -> dict[str, np.ndarray]:
    """One ensemble's per-model values ``(E,)`` of :data:`METRICS` but ``correlation``, which is the pairwise
    ``(E, E)`` correlation matrix of the models' influence matrices."""
    layers = weights(arrays)
    path = interpret.influence(layers)  # (E, 8, 13)
    edge = interpret.edge_scores(path, threshold=threshold)
    corr, _ = interpret.pairwise(path, threshold)
    return {"zeros": 100.0 * zero_fraction(layers), **{m: np.asarray(edge[m], float) for m in METRICS[1:5]},
            "correlation": corr}


def _stat(metric: str):
    return sparse_dnn.pair_stat if metric == "correlation" else sparse_dnn.mean_stat


def scores(models: dict[str, dict], threshold: float = interpret.THRESHOLD, n_boot: int = sparse_dnn.N_BOOT,
           seed: int = 0) -> pd.DataFrame:
    """One row per ``(config, metric)`` with ``estimate``, ``low``, ``high``: the ensemble's mean over its models
    and the 95 % interval over model resamples (:func:`alukit.studies.sparse_dnn.boot`).

    ``models``: ``{config: models.npz arrays}`` (:attr:`alukit.studies.reproduce.Results.models`). Metrics
    (:data:`METRICS`): ``zeros`` (% of weights exactly 0), precision, recall and F1 of the edges above
    ``threshold`` (normalised influence), the threshold-free area under the precision–recall curve, and
    ``correlation``, the mean Pearson correlation of the influence matrices of distinct models (consistency).
    """
    rows = []
    for config, arrays in models.items():
        values = per_model(arrays, threshold)
        rows += [(config, m, *sparse_dnn.boot(_stat(m), values[m], n_boot, seed)) for m in METRICS]
    return pd.DataFrame(rows, columns=["config", "metric", "estimate", "low", "high"])


def compare(models: dict[str, dict], config: str, reference: str = "dense", threshold: float = interpret.THRESHOLD,
            n_boot: int = sparse_dnn.N_BOOT, seed: int = 0) -> pd.DataFrame:
    """``config`` − ``reference`` for each of :data:`COMPARED` (higher is better): ``difference``, its 95 %
    interval (``low``, ``high``; models resampled independently) and the chapter's ``verdict`` rule
    (:func:`alukit.studies.sparse_dnn.verdict`), one row per metric."""
    a, b = per_model(models[config], threshold), per_model(models[reference], threshold)
    rows = []
    for m in COMPARED:
        diff, low, high = sparse_dnn.boot_difference(_stat(m), a[m], b[m], n_boot, seed)
        rows.append((m, diff, low, high, sparse_dnn.verdict(low, high, True)))
    return pd.DataFrame(rows, columns=["metric", "difference", "low", "high", "verdict"]).set_index("metric")


def median_graph(arrays: dict, threshold: float = interpret.THRESHOLD) -> tuple[np.ndarray, float, np.ndarray]:
    """The ensemble's median model (:func:`alukit.evaluation.interpret.median_model` on F1 and AUPRC):
    its edges ``(8, 13)`` bool, its F1, and its normalised influence ``(8, 13)``, for a graph."""
    path = interpret.influence(weights(arrays))
    edge = interpret.edge_scores(path, threshold=threshold)
    e = interpret.median_model({"f1": edge["f1"], "auprc": edge["auprc"]})
    return interpret.edges(path[e], threshold), float(edge["f1"][e]), interpret.normalise(path[e])
