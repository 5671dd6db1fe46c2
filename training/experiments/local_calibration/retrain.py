"""Does a deployment gain more from training the layer on its own labelled captures than from
setting only its threshold on them? (Not run by CI.)

For each source, n consecutive live and n consecutive attack stills of it (one stretch of
capture, as `measure.py`'s `block`) are the deployment's sample; the rest of the source is
what it meets next. Four ways to judge that rest, on the same draws:
- `shared`: the fold layer that never saw the source, at the shared LOSO threshold (chosen on
  the other sources' out-of-fold scores);
- `own threshold`: the same layer, the threshold chosen on the sample (session 17's rule: of
  the lowest-ACER thresholds on the sample, the one nearest the shared one);
- `retrained`: the layer fitted on the other sources plus the sample as an eleventh source of
  equal weight, at the shared threshold;
- `retrained + own threshold`: that layer with the threshold chosen on the sample's scores
  (which it was fitted on, so this threshold is chosen in-sample).

Three ways to draw the sample and the rest (`WAY`):
- `block`: n consecutive stills of each class anywhere; the rest is everything else;
- `halves`: the block from the first half of each class (file order, i.e. capture order); the
  rest is the second half only — later takes, as a deployment meets them after calibrating;
- `people`: only for sources that name several people per class (`nuaa_train`): the sample
  from some people, the rest from the others — calibrating on staff, meeting customers.
Most sources here are one person per class, so `block` and `halves` share the person between
sample and rest: a layer fitted on the sample may learn that person's look, which a threshold
cannot. `people` is the honest test of that.

Features and fit as `../tight_chips/common.py` (the shipped taps, ridge 1000, standardised over
the real crops only: pooled LOSO 12.1 % there against 11.8 % with the chip re-cuts).

Usage: WAY=block|halves|people retrain.py [DRAWS] [N,N…]   (default block, 20 draws, n = 20)
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tight_chips"))
from common import base, fit_extra  # noqa: E402
from metrics import balanced_threshold, rates  # noqa: E402
from measure import local_threshold, number  # noqa: E402

L2 = 1000.0
WAY = os.environ.get("WAY", "block")


def held_out(s, n, src, live, oof, people):
    """Source `s`'s mask, its shared LOSO threshold and its live and attack indices; `None`
    when it has too few stills of a class for a sample of n and a rest (or, for `people`, too
    few people)."""
    m = src == s
    b_idx, a_idx = np.flatnonzero(m & live), np.flatnonzero(m & ~live)
    if min(len(b_idx), len(a_idx)) < 2 * n:
        return None
    if WAY == "people" and min(len(np.unique(people[i])) for i in (b_idx, a_idx)) < 3:
        return None
    return m, balanced_threshold(oof[~m], live[~m], src[~m]), b_idx, a_idx


def tally(got, judged, rb, ra):
    """Each way's APCER and BPCER on the rest (live `rb`, attacks `ra`): {way: (scores, t)}."""
    for w, (sc, t) in judged.items():
        ap, bp = rates(sc[rb], sc[ra], t)
        got[w].append((ap, bp, len(ra), len(rb)))


def close_source(s, got, per, acc):
    """One source's draws into the per-source table and the pooled lists."""
    per[s] = {w: np.array(v) for w, v in got.items()}
    for w, v in per[s].items():
        acc[w].append(v)


def pooled(rows):
    """Pooled ACER (%) of tallied draws, errors weighted by how many stills each rate covers."""
    rows = np.concatenate(rows)
    ap = (rows[:, 0] * rows[:, 2]).sum() / rows[:, 2].sum()
    bp = (rows[:, 1] * rows[:, 3]).sum() / rows[:, 3].sum()
    return 100 * (ap + bp) / 2


def report(n, draws, ways, acc, per):
    """Prints the pooled ACER of each way over all draws and sources, then each source's mean
    ACER per way."""
    print(f"n = {n} per class, {draws} {WAY} draws per source; pooled ACER on the rest of each source:")
    for w in ways:
        print(f"  {w:<27} {pooled(acc[w]):5.1f} %")
    print("  per source (" + " / ".join(ways) + "):")
    for s, r in per.items():
        cells = " / ".join(f"{100 * (v[:, 0].mean() + v[:, 1].mean()) / 2:4.1f}" for v in r.values())
        print(f"    {s[:40]:<40} {cells}")
    sys.stdout.flush()


def stills():
    """The trainable stills' features, live flags, sources and people, in capture order within
    each source and class (file-number order: frames of takes)."""
    c, x_all = base()
    tr = np.flatnonzero(c.trainable)
    order = sorted(range(len(tr)), key=lambda k: (c.source[tr[k]], c.live[tr[k]], number(c.rows[tr[k]]["file"])))
    tr = tr[order]
    people = np.array([identities().get(c.rows[k]["file"], "") for k in tr])
    return x_all[tr], c.live[tr], c.source[tr], people


def identities():
    """file → identity, from the test data's manifest."""
    td = os.environ.get("LIVEGATE_TESTDATA", os.path.join(HERE, "..", "..", "..", "..", "shared", "testdata"))
    out = {}
    with open(os.path.join(td, "MANIFEST.tsv")) as f:
        head = f.readline().rstrip("\n").split("\t")
        fi, ii = head.index("file"), head.index("identity")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            out[cols[fi]] = cols[ii]
    return out


def draw(rng, idx, n, people):
    """(sample, rest) of one class's indices `idx` (capture order), as `WAY` says."""
    if WAY == "people":
        names = np.unique(people[idx])
        rng.shuffle(names)
        picked, k = [], 0
        while len(picked) < n and k < len(names):
            picked.extend(idx[people[idx] == names[k]].tolist())
            k += 1
        sample = np.array(picked[:n])
        rest = idx[~np.isin(people[idx], names[:k])]
        return sample, rest
    pool = idx[: len(idx) // 2] if WAY == "halves" else idx
    i = rng.integers(0, len(pool) - n + 1)
    sample = pool[i:i + n]
    rest = idx[len(idx) // 2:] if WAY == "halves" else np.setdiff1d(idx, sample)
    return sample, rest


def main():
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    ns = [int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "20").split(",")]
    x, live, src, people = stills()
    sources = np.unique(src)
    folds, oof = {}, np.zeros(len(live))
    for s in sources:
        h = src == s
        folds[s] = fit_extra(x[~h], live[~h], src[~h], L2)
        oof[h] = folds[s].score(x[h])
    rng = np.random.default_rng(0)
    ways = ("shared", "own threshold", "retrained", "retrained + own threshold")
    for n in ns:
        acc = {w: [] for w in ways}
        per = {}
        for s in sources:
            held = held_out(s, n, src, live, oof, people)
            if held is None:
                continue
            m, t_shared, b_idx, a_idx = held
            got = {w: [] for w in ways}
            for _ in range(draws):
                cb, rb = draw(rng, b_idx, n, people)
                ca, ra = draw(rng, a_idx, n, people)
                sample = np.concatenate([cb, ca])
                train = np.concatenate([np.flatnonzero(~m), sample])
                tag = src[train].astype(object)
                tag[-len(sample):] = "own sample"
                retrained = fit_extra(x[train], live[train], tag.astype(str), L2)
                fold_scores = oof
                new_scores = np.zeros(len(live))
                new_scores[m] = retrained.score(x[m])
                judged = {
                    "shared": (fold_scores, t_shared),
                    "own threshold": (fold_scores, local_threshold(oof[cb], oof[ca], t_shared)),
                    "retrained": (new_scores, t_shared),
                    "retrained + own threshold": (
                        new_scores, local_threshold(new_scores[cb], new_scores[ca], t_shared)),
                }
                tally(got, judged, rb, ra)
            close_source(s, got, per, acc)

        report(n, draws, ways, acc, per)


if __name__ == "__main__":
    main()
