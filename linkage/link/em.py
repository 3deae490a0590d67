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
    # Levels the data weighed above a closer level of the same comparison; training pooled
    # them with it (each with the label of the closer level it was pooled with), so that a
    # closer agreement never weighs less. Reported with each run: a sign that a level's
    # definition overlaps another's, or that the data hold few pairs to tell them apart.
    pooled: dict[str, str] = field(default_factory=dict)

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
    # False for the model of a run with too few candidate pairs to learn from
    # (`untrained`): every weight 0, no term-frequency adjustment either.
    trained: bool = True

    @classmethod
    def untrained(cls, names: list[str], labels: list[list[str]]) -> Model:
        """A model that knows nothing: each pair as likely a match as not, whatever it looks
        like, so that nothing links and every candidate pair goes to a reviewer. For runs
        whose records hold too few candidate pairs for EM (an agency's few hundred clients):
        there, EM would fit noise and could link strangers."""
        comps = [ComparisonParams(name, list(lab), [1 / len(lab)] * len(lab),
                                  [1 / len(lab)] * len(lab))
                 for name, lab in zip(names, labels, strict=True)]
        return cls(0.5, comps, trained=False)

    def prior_weight(self) -> float:
        return float(np.log2(self.match_share / (1 - self.match_share)))

    def to_dict(self) -> dict:
        return {"match_share": self.match_share, "iterations": self.iterations,
                "converged": self.converged, "trained": self.trained,
                "comparisons": [{"name": c.name, "labels": c.labels, "m": c.m, "u": c.u,
                                 "pooled": c.pooled} for c in self.comparisons]}

    @classmethod
    def from_dict(cls, data: dict) -> Model:
        return cls(data["match_share"], [ComparisonParams(**c) for c in data["comparisons"]],
                   data.get("iterations", 0), data.get("converged", False),
                   trained=data.get("trained", True))


def _start(levels: np.ndarray, counts: np.ndarray, n_levels: int,
           best_m: float) -> tuple[np.ndarray, np.ndarray]:
    """m leans on the most alike level; u starts at the levels' observed shares."""
    m = np.full(n_levels, (1 - best_m) / max(n_levels - 1, 1))
    m[0] = best_m
    seen = levels >= 0
    u = np.bincount(levels[seen], weights=counts[seen], minlength=n_levels) + 1.0
    return m, u / u.sum()


def ordered_m(m_mass: np.ndarray, u: np.ndarray, prior_pairs: float,
              ranked: list[bool] | None = None) -> tuple[np.ndarray, list[int]]:
    """m of one comparison from its expected match counts per level, such that the weights
    log(m / u) never rise from a closer level to a looser one.

    Two things make raw EM weights senseless on data unlike the data a model was tuned on:
    - A level few matches reach gets an extreme weight from a handful of pairs (a first-name
      typo that no match happened to carry weighed -29.5 bits). `prior_pairs` pseudo-matches
      are spread over the levels in proportion to u, a Dirichlet prior centred on "this
      level says nothing" (weight 0), as fastLink and Splink regularise: with many matches
      at a level the data decide; with few, the weight stays moderate.
    - Overlapping levels can come out of order (a transposed SSN above an exact one, since
      relatives share SSNs and nobody transposes into a stranger's). Adjacent violators are
      pooled (PAVA on the likelihood ratio): a pooled block keeps its total m, spread in
      proportion to u, so its levels share one weight. Levels not `ranked` (categories, not
      degrees of agreement) stay out of the order.

    Returns m and, for each level, the index of the first level of its pooled block."""
    m = (m_mass + prior_pairs * u) / max(m_mass.sum() + prior_pairs, 1e-300)
    order = [i for i in range(len(m)) if ranked is None or ranked[i]]
    blocks: list[list[int]] = []  # [first, last] position in `order`
    sums: list[list[float]] = []  # [m, u] of each block
    for i in range(len(order)):
        blocks.append([i, i])
        sums.append([float(m[order[i]]), float(u[order[i]])])
        # merge while the block before weighs less than this one (m1/u1 < m2/u2)
        while len(blocks) > 1 and sums[-2][0] * sums[-1][1] < sums[-1][0] * sums[-2][1]:
            last = blocks.pop()
            m_last, u_last = sums.pop()
            blocks[-1][1] = last[1]
            sums[-1][0] += m_last
            sums[-1][1] += u_last
    first = list(range(len(m)))
    for (lo, hi), (m_sum, u_sum) in zip(blocks, sums, strict=True):
        levels = order[lo:hi + 1]
        if hi > lo:
            m[levels] = u[levels] * (m_sum / u_sum)
        for level in levels:
            first[level] = order[lo]
    return m, first


# Weights that alternate between two sets at most this far apart (bits) have converged: a
# level pooled in one iteration and not the next. Further apart, EM goes on.
TWO_CYCLE_BITS = 0.01

# Below this many anchor pairs (a small list, a comparison few pairs reach) m comes from every
# pair's posterior, as plain EM has it.
MIN_ANCHOR_PAIRS = 100


def _fill_unreached(m: np.ndarray, u: np.ndarray, reached: np.ndarray,
                    ranked: list[bool]) -> np.ndarray:
    """m for the ranked levels no pair reached: the likelihood ratio of the nearest reached
    ranked level looser than it, else of the nearest closer one (unranked ones keep m = u,
    weight 0)."""
    m = m.copy()
    known = [j for j in range(len(m)) if reached[j] and ranked[j]]
    for i in range(len(m)):
        if reached[i] or not ranked[i] or not known:
            continue
        looser = [j for j in known if j > i]
        j = looser[0] if looser else known[-1]
        m[i] = u[i] * m[j] / u[j]
    return m


def fit(patterns: np.ndarray, counts: np.ndarray, names: list[str], labels: list[list[str]],
        *, max_iterations: int = 200, tolerance: float = 1e-6, match_share: float = 0.3,
        best_m: float = 0.9, floor: float = 1e-6, prior_pairs: float = 0.0,
        u_prior_pairs: float = 0.0, ranked: list[list[bool]] | None = None,
        anchor: float | None = None, fixed: Model | None = None,
        non_match: np.ndarray | None = None) -> Model:
    """Estimate lambda, m and u from patterns (rows of level indexes, -1 = no evidence; the
    last index of each comparison is "different") and how many pairs have each pattern.

    With `fixed`, lambda and the comparisons it holds keep its values and only the others
    are estimated: a comparison added later (household evidence) cannot then pull the model
    toward "same family" instead of "same person".

    With `anchor` (a probability), each comparison's m is learnt from the pairs that the other
    comparisons alone make at least this sure and none of them argues against (leave-one-out
    anchors), instead of from every pair's posterior.

    Each M-step keeps every comparison's weights in level order (`ordered_m`), with
    `prior_pairs` pseudo-matches shrinking rarely reached levels toward weight 0.
    `u_prior_pairs` pseudo-non-matches, spread as m, do the same for u: a level no sampled
    pair reached (two strangers at one address) is rarer than the sample can tell, not
    impossible, and must not weigh 40 bits, enough to outweigh a different birth date, first
    name and sex together.

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
    kept_pooled: dict[int, dict[str, str]] = {}
    if fixed is not None:
        known = {c.name: c for c in fixed.comparisons}
        for c, name in enumerate(names):
            if name in known:
                m[c], u[c] = np.asarray(known[name].m), np.asarray(known[name].u)
                kept_pooled[c] = known[name].pooled
                frozen.add(c)
        lam = fixed.match_share
    first_of = [list(range(k)) for k in n_levels]
    # A level no pair reaches has no weight to estimate: it stays out of the order instead of
    # taking whatever ratio two floors give (and dragging its neighbours along), and then
    # takes the weight of the nearest looser level (of the closer one if none is looser), so
    # that a pair reaching it when the model scores other data is still weighed in order.
    reached = [np.bincount(patterns[:, c][patterns[:, c] >= 0],
                           weights=counts[patterns[:, c] >= 0], minlength=k) > 0
               for c, k in enumerate(n_levels)]
    order = [[bool(r) and (ranked is None or ranked[c][i]) for i, r in enumerate(reached[c])]
             for c in range(len(n_levels))]
    # Each comparison's levels as indexes into its m and u with a 1 appended: "no evidence"
    # (-1) points at that 1, whose log is 0, so every pattern takes part without masks.
    idx = [np.where(patterns[:, c] >= 0, patterns[:, c], k) for c, k in enumerate(n_levels)]
    log_anchor = np.log(anchor / (1 - anchor)) if anchor is not None else 0.0
    history: list[float] = []
    weights: list[np.ndarray] = []
    converged = False
    iteration = 0
    while iteration < max_iterations:
        iteration += 1
        # each comparison's log Bayes factor per pattern
        log_m_c = [np.log(np.append(m[c], 1.0))[idx[c]] for c in range(len(n_levels))]
        log_u_c = [np.log(np.append(u[c], 1.0))[idx[c]] for c in range(len(n_levels))]
        terms = [lm - lu for lm, lu in zip(log_m_c, log_u_c, strict=True)]
        log_m = np.sum(log_m_c, axis=0)
        log_u = np.sum(log_u_c, axis=0)
        odds = np.log(lam) - np.log1p(-lam) + log_m - log_u
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
        non_match_mass = counts * (1 - post)
        match_mass = counts * post
        # how many comparisons argue against each pattern (a negative term)
        against = np.sum([term < 0 for term in terms], axis=0)
        for c, k in enumerate(n_levels):
            if c in frozen:
                continue
            u_mass = np.bincount(idx[c], weights=non_match_mass, minlength=k + 1)[:k]
            u_mass = u_mass + u_prior_pairs * m[c]
            u_share = np.maximum(u_mass / max(u_mass.sum(), 1e-300), floor)
            u_share /= u_share.sum()
            weight = match_mass
            if anchor is not None:
                # Matches judged without this comparison: a pair that the others make
                # certain, and none of them argues against, tells what this one looks like
                # among matches. A pair that only shares a common name (its birth dates
                # differ) does not get to say that birth dates often differ among matches,
                # nor twins (first names differ) that sexes do. With errors independent
                # from field to field, as the model assumes, the anchors' levels are
                # distributed as all matches' are.
                others_agree = against - (terms[c] < 0) == 0
                sure = (odds - terms[c] >= log_anchor) & others_agree & (post > 0)
                if (counts * sure).sum() >= MIN_ANCHOR_PAIRS:
                    weight = counts * sure
            m_mass = np.bincount(idx[c], weights=weight, minlength=k + 1)[:k]
            m_share, first_of[c] = ordered_m(m_mass, u_share, prior_pairs, order[c])
            m_share = np.where(reached[c], np.maximum(m_share, floor), u_share)
            m_share = _fill_unreached(m_share, u_share, reached[c],
                                      ranked[c] if ranked else [True] * k)
            m_share /= m_share.sum()
            m[c], u[c] = m_share, u_share
        lam = new_lam
        # Converged when no weight moves, or when they alternate between two sets a hair
        # apart (pooling can flip a level in and out of a block: 0.0004 bits on a list of
        # 100,000). m and u of a level all but no pair reaches can drift together for
        # hundreds of iterations while its weight stays put, so shares are not compared.
        weights.append(np.concatenate([np.log2(m[c] / u[c]) for c in range(len(n_levels))]
                                      + [[np.log2(lam / (1 - lam))]]))
        step = np.abs(weights[-1] - weights[-2]).max() if len(weights) > 1 else np.inf
        if step < tolerance or (len(weights) > 2 and step < TWO_CYCLE_BITS
                                and np.abs(weights[-1] - weights[-3]).max() < tolerance):
            converged = True
            break
    comps = [ComparisonParams(name, list(lab), [float(x) for x in m[c]],
                              [float(x) for x in u[c]],
                              kept_pooled.get(c) or {lab[i]: lab[f] for i, f
                                                     in enumerate(first_of[c]) if f != i})
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
