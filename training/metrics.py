"""ISO/IEC 30107-3 figures and the leave-one-source-out threshold, as `livegate eval` computes
them (crates/eval/src/metrics.rs and loso.rs); keep the two in step."""

import numpy as np


def roc_auc(bona, attack):
    bona, attack = np.asarray(bona, float), np.asarray(attack, float)
    if len(bona) == 0 or len(attack) == 0:
        return float("nan")
    allv = np.concatenate([bona, attack])
    order = np.argsort(allv, kind="mergesort")
    ranks = np.empty(len(allv))
    sorted_v = allv[order]
    i = 0
    while i < len(allv):
        j = i
        while j < len(allv) and sorted_v[j] == sorted_v[i]:
            j += 1
        ranks[order[i:j]] = (i + 1 + j) / 2.0
        i = j
    nb, na = len(bona), len(attack)
    return float((ranks[:nb].sum() - nb * (nb + 1) / 2) / (nb * na))


def rates(bona, attack, t):
    apcer = float(np.mean(np.asarray(attack) >= t)) if len(attack) else float("nan")
    bpcer = float(np.mean(np.asarray(bona) < t)) if len(bona) else float("nan")
    return apcer, bpcer


def bpcer_at_apcer(bona, attack, target):
    if len(bona) == 0 or len(attack) == 0:
        return float("nan")
    for t in sorted(set(np.concatenate([attack, bona]).tolist()) | {float("inf")}):
        a, b = rates(bona, attack, t)
        if a <= target:
            return b
    return 1.0


def balanced_threshold(scores, live, groups):
    """The threshold minimising the source-balanced ACER: the mean over sources of each one's
    APCER and BPCER, so a large source does not decide where every other source's faces
    land. A tied stretch of thresholds is split in the middle (as `crates/eval/src/loso.rs`):
    its lowest candidate is a live score itself."""
    scores, live, groups = map(np.asarray, (scores, live, groups))
    cands = np.unique(np.concatenate([scores, [0.0, 1.0]]))
    names = np.unique(groups)
    acers = []
    for t in cands:
        ap, bp = [], []
        for g in names:
            m = groups == g
            a, b = rates(scores[m & live], scores[m & ~live], t)
            if not np.isnan(a):
                ap.append(a)
            if not np.isnan(b):
                bp.append(b)
        acers.append((np.mean(ap) + np.mean(bp)) / 2)
    tied = np.asarray(acers) <= min(acers) + 1e-12
    first = int(np.argmax(tied))
    last = first
    while last + 1 < len(cands) and tied[last + 1]:
        last += 1
    # Every threshold in (cands[first - 1], cands[last]] judges the scores alike.
    return float((cands[max(first - 1, 0)] + cands[last]) / 2)


def loso_table(scores, live, groups, choose=None):
    """Per held-out source: the threshold chosen on the other sources (by `choose(scores, live,
    groups)`, default `balanced_threshold`), and that source's APCER, BPCER, ACER,
    BPCER@APCER=5 % and AUC; then the pooled figures."""
    choose = choose or balanced_threshold
    scores, live, groups = map(np.asarray, (scores, live, groups))
    rows, dec_live, dec_acc = {}, [], []
    for g in np.unique(groups):
        held = groups == g
        t = choose(scores[~held], live[~held], groups[~held])
        b, a = scores[held & live], scores[held & ~live]
        apcer, bpcer = rates(b, a, t)
        rows[str(g)] = dict(bona_fide=int(len(b)), attacks=int(len(a)), threshold=t,
                            apcer=apcer, bpcer=bpcer, acer=(apcer + bpcer) / 2,
                            bpcer_at_apcer_5=bpcer_at_apcer(b, a, 0.05), roc_auc=roc_auc(b, a))
        dec_live.append(live[held])
        dec_acc.append(scores[held] >= t)
    lv, acc = np.concatenate(dec_live), np.concatenate(dec_acc)
    apcer, bpcer = float(np.mean(acc[~lv])), float(np.mean(~acc[lv]))
    pooled = dict(bona_fide=int(lv.sum()), attacks=int((~lv).sum()), apcer=apcer, bpcer=bpcer,
                  acer=(apcer + bpcer) / 2,
                  bpcer_at_apcer_5=bpcer_at_apcer(scores[live], scores[~live], 0.05),
                  roc_auc=roc_auc(scores[live], scores[~live]))
    return rows, pooled


def format_table(rows, pooled, title):
    out = [title, f"{'source':<44} {'bona':>5} {'att':>5} {'thr':>6} {'APCER':>7} {'BPCER':>7}"
                  f" {'ACER':>7} {'BP@AP5':>7} {'AUC':>6}"]
    pct = lambda v: "-" if np.isnan(v) else f"{100 * v:.1f}%"
    for name, r in list(rows.items()) + [("POOLED", pooled)]:
        out.append(f"{name[:44]:<44} {r['bona_fide']:>5} {r['attacks']:>5} "
                   f"{r.get('threshold', float('nan')):>6.3f} {pct(r['apcer']):>7} "
                   f"{pct(r['bpcer']):>7} {pct(r['acer']):>7} {pct(r['bpcer_at_apcer_5']):>7} "
                   f"{r['roc_auc']:>6.3f}")
    return "\n".join(out)


def grid_line(label, oof, live, groups, faces_scores):
    """One line of an experiment's grid: the pooled LOSO ACER and AUC of the out-of-fold scores,
    the worst source, `nuaa_train`'s AUC, and the share of `faces_scores` (a layer trained on
    every source, on stills never trained on) below the out-of-fold operating point."""
    rows, pooled = loso_table(oof, live, groups)
    threshold = balanced_threshold(oof, live, groups)
    worst = max((r["acer"], name) for name, r in rows.items())
    nuaa = rows.get("nuaa_train", {}).get("roc_auc", float("nan"))
    return (f"{label} ACER {100 * pooled['acer']:5.1f} AUC {pooled['roc_auc']:.3f} "
            f"worst {100 * worst[0]:4.1f} ({worst[1][:12]}) nuaa AUC {nuaa:.3f} "
            f"faces BPCER {100 * np.mean(faces_scores < threshold):4.1f} thr {threshold:.2f}")
