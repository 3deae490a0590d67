"""Fellegi-Sunter parameters by expectation-maximisation over comparison *patterns*.

Millions of candidate pairs fall into a few thousand distinct patterns of comparison levels,
so EM runs over (pattern, count) rows, as fastLink does, instead of over the pairs: each
iteration costs microseconds, not a scan of the pairs. The model never sees a label.

Both m (level shares among matches) and u (among non-matches) are estimated over the candidate
pairs, and so is lambda, the share of candidates that match: the posterior is then exactly the
probability that a *candidate* pair is a match, which is what scoring needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ComparisonParams:
    name: str
    labels: list[str]  # listed levels, most alike first, then "different"
    m: list[float]
    u: list[float]

    def weights(self) -> np.ndarray:
        """log2 Bayes factor of each level."""
        return np.log2(np.asarray(self.m) / np.asarray(self.u))


@dataclass
class Model:
    match_share: float  # lambda: the prior that a candidate pair matches
    comparisons: list[ComparisonParams]
    iterations: int = 0
    converged: bool = False
    history: list[float] = field(default_factory=list)  # log-likelihood per iteration

    def prior_weight(self) -> float:
        return float(np.log2(self.match_share / (1 - self.match_share)))

    def to_dict(self) -> dict:
        return {"match_share": self.match_share, "iterations": self.iterations,
                "converged": self.converged,
                "comparisons": [{"name": c.name, "labels": c.labels, "m": c.m, "u": c.u}
                                for c in self.comparisons]}

    @classmethod
    def from_dict(cls, data: dict) -> Model:
        return cls(data["match_share"], [ComparisonParams(**c) for c in data["comparisons"]],
                   data.get("iterations", 0), data.get("converged", False))


def _start(levels: np.ndarray, counts: np.ndarray, n_levels: int,
           best_m: float) -> tuple[np.ndarray, np.ndarray]:
    """m leans on the most alike level; u starts at the levels' observed shares."""
    m = np.full(n_levels, (1 - best_m) / max(n_levels - 1, 1))
    m[0] = best_m
    seen = levels >= 0
    u = np.bincount(levels[seen], weights=counts[seen], minlength=n_levels) + 1.0
    return m, u / u.sum()


def fit(patterns: np.ndarray, counts: np.ndarray, names: list[str], labels: list[list[str]],
        *, max_iterations: int = 200, tolerance: float = 1e-7, match_share: float = 0.3,
        best_m: float = 0.9, floor: float = 1e-6, fixed: Model | None = None,
        non_match: np.ndarray | None = None) -> Model:
    """Estimate lambda, m and u from patterns (rows of level indexes, -1 = no evidence; the
    last index of each comparison is "different") and how many pairs have each pattern.

    With `fixed`, lambda and the comparisons it holds keep its values and only the others
    are estimated: a comparison added later (household evidence) cannot then pull the model
    toward "same family" instead of "same person".

    `non_match` marks rows known to hold no matches (random pairs standing for the pairs
    blocking never proposes): they inform u and lambda only. Weighted by hundreds of
    thousands, even a tiny posterior on them would otherwise swamp m."""
    patterns = np.asarray(patterns, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    n_levels = [len(lab) for lab in labels]
    starts = [_start(patterns[:, c], counts, k, best_m) for c, k in enumerate(n_levels)]
    m = [s[0] for s in starts]
    u = [s[1] for s in starts]
    lam = match_share
    frozen: set[int] = set()
    if fixed is not None:
        known = {c.name: c for c in fixed.comparisons}
        for c, name in enumerate(names):
            if name in known:
                m[c], u[c] = np.asarray(known[name].m), np.asarray(known[name].u)
                frozen.add(c)
        lam = fixed.match_share
    history: list[float] = []
    converged = False
    iteration = 0
    while iteration < max_iterations:
        iteration += 1
        log_m = np.zeros(len(counts))
        log_u = np.zeros(len(counts))
        for c in range(len(n_levels)):
            g = patterns[:, c]
            seen = g >= 0
            log_m[seen] += np.log(m[c][g[seen]])
            log_u[seen] += np.log(u[c][g[seen]])
        a = np.log(lam) + log_m
        b = np.log1p(-lam) + log_u
        top = np.maximum(a, b)
        total = top + np.log(np.exp(a - top) + np.exp(b - top))
        post = np.exp(a - total)
        if non_match is not None:
            post[non_match] = 0.0
        history.append(float((counts * total).sum()))
        new_lam = lam if fixed is not None else float((counts * post).sum() / counts.sum())
        new_lam = min(max(new_lam, floor), 1 - floor)
        change = abs(new_lam - lam)
        for c, k in enumerate(n_levels):
            if c in frozen:
                continue
            g = patterns[:, c]
            seen = g >= 0
            for params, weight in ((m, post), (u, 1 - post)):
                mass = np.bincount(g[seen], weights=(counts * weight)[seen], minlength=k)
                share = np.maximum(mass / max(mass.sum(), 1e-300), floor)
                share /= share.sum()
                change = max(change, float(np.abs(share - params[c]).max()))
                params[c] = share
        lam = new_lam
        if change < tolerance:
            converged = True
            break
    comps = [ComparisonParams(name, list(lab), [float(x) for x in m[c]],
                              [float(x) for x in u[c]])
             for c, (name, lab) in enumerate(zip(names, labels, strict=True))]
    return Model(lam, comps, iteration, converged, history)


def pattern_weights(model: Model, patterns: np.ndarray) -> np.ndarray:
    """Match weight (log2 odds, prior included) of each pattern, before term frequencies."""
    patterns = np.asarray(patterns, dtype=np.int64)
    weight = np.full(len(patterns), model.prior_weight())
    for c, comp in enumerate(model.comparisons):
        g = patterns[:, c]
        seen = g >= 0
        weight[seen] += comp.weights()[g[seen]]
    return weight
