"""The README's table from $LIVEGATE_EXP_DIR/grid.jsonl: one row per config, the mean over the
chip seeds it was run at (the last run of a config and seed counts)."""
import json
import os

import numpy as np

from common import OUT

runs = {}
for line in open(os.path.join(OUT, "grid.jsonl")):
    r = json.loads(line)
    key = (r["transform"], r["ridge"], r["tau"], r["groups"] if r["tau"] is not None or r["groups"] == "sraw" else "-",
           r["bags"], r["drop"] if r["bags"] else 0, r["chips"], r["rule"])
    runs.setdefault(key, {})[r["seed"]] = r
print("| transform | ridge | τ (groups) | bagging | chips | threshold | seeds | pooled ACER | AUC "
      "| worst source | nuaa AUC | faces BPCER |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for key, by_seed in runs.items():
    rs = list(by_seed.values())
    m = lambda k: np.mean([r[k] for r in rs])  # noqa: E731
    worst = np.mean([r["worst"][0] for r in rs])
    who = "/".join(sorted({r["worst"][1][:5] for r in rs}))
    tname, l2, tau, groups, bags, drop, chips, rule = key
    print(f"| {tname} | {l2:g} | {('–' if tau is None else f'{tau:g}') + ('' if groups == '-' else f' ({groups})')} | "
          f"{f'{bags}×, {drop} out' if bags else '–'} | {'yes' if chips else 'no'} | {rule} | "
          f"{','.join(str(s) for s in sorted(by_seed))} | {100 * m('acer'):.2f} % | {m('auc'):.3f} | "
          f"{100 * worst:.1f} % {who} | {m('nuaa'):.3f} | {100 * m('faces'):.1f} % |")
