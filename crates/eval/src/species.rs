//! APCER per presentation-attack instrument (PAI) species, as ISO/IEC 30107-3 reports it.
//!
//! A pooled APCER hides which kind of attack gets through: a model that stops every print and
//! half of the phone replays reads the same as one that lets a little of everything past. The
//! standard reports APCER for each PAI species and, as the figure for the whole attack set,
//! the worst species' APCER. Species come from the manifest ([`crate::manifest::species_of`]);
//! attacks without one are counted under [`UNNAMED`].

use crate::interval::{self, Interval};
use crate::report::pct;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The row of attacks whose species the manifest does not name.
pub const UNNAMED: &str = "(unnamed)";

#[derive(Debug, Clone, Serialize)]
pub struct SpeciesRow {
    pub attacks: usize,
    /// How many sources the species' attacks come from: one source's species says more about
    /// that source than about the instrument.
    pub sources: usize,
    pub apcer: f32,
    /// 95 % Wilson interval.
    pub apcer_ci: Option<Interval>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpeciesReport {
    pub species: BTreeMap<String, SpeciesRow>,
    /// The worst species and its APCER (ISO/IEC 30107-3's APCER over the attack set).
    pub worst: Option<(String, f32)>,
}

/// One attack as decided: its species, its source, and whether it was accepted as bona fide.
pub struct Decided<'a> {
    pub species: Option<&'a str>,
    pub source: &'a str,
    pub accepted: bool,
}

pub fn build<'a>(attacks: impl IntoIterator<Item = Decided<'a>>) -> SpeciesReport {
    let mut by: BTreeMap<&str, (usize, usize, BTreeSet<&str>)> = BTreeMap::new();
    for a in attacks {
        let e = by.entry(a.species.unwrap_or(UNNAMED)).or_default();
        e.0 += 1;
        e.1 += usize::from(a.accepted);
        e.2.insert(a.source);
    }
    let species: BTreeMap<String, SpeciesRow> = by
        .into_iter()
        .map(|(name, (n, accepted, sources))| {
            let row = SpeciesRow {
                attacks: n,
                sources: sources.len(),
                apcer: accepted as f32 / n as f32,
                apcer_ci: interval::wilson(accepted, n),
            };
            (name.to_string(), row)
        })
        .collect();
    let worst = species
        .iter()
        .max_by(|a, b| a.1.apcer.total_cmp(&b.1.apcer))
        .map(|(name, row)| (name.clone(), row.apcer));
    SpeciesReport { species, worst }
}

/// The table printed under `title`; nothing when there are no attacks.
pub fn table(title: &str, r: &SpeciesReport) -> String {
    if r.species.is_empty() {
        return String::new();
    }
    let mut s = format!("\n{title}:\n");
    s.push_str(&format!(
        "{:<28} {:>7} {:>7} {:>7} {:>13}\n",
        "species", "attacks", "sources", "APCER", "APCER 95% CI"
    ));
    for (name, row) in &r.species {
        s.push_str(&format!(
            "{:<28} {:>7} {:>7} {:>7} {:>13}\n",
            name.chars().take(28).collect::<String>(),
            row.attacks,
            row.sources,
            pct(row.apcer),
            row.apcer_ci.map_or("-".into(), |i| i.pct()),
        ));
    }
    if let Some((name, apcer)) = &r.worst {
        s.push_str(&format!("worst species APCER {} ({name})\n", pct(*apcer)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decided(
        species: Option<&'static str>,
        source: &'static str,
        accepted: bool,
    ) -> Decided<'static> {
        Decided {
            species,
            source,
            accepted,
        }
    }

    #[test]
    fn each_species_gets_its_own_rate_and_the_worst_one_is_named() {
        let mut v = Vec::new();
        for i in 0..10 {
            v.push(decided(
                Some("print"),
                if i < 5 { "a" } else { "b" },
                i == 0,
            ));
            v.push(decided(Some("replay_screen"), "a", i < 4));
        }
        v.push(decided(None, "c", false));
        let r = build(v);
        let print = &r.species["print"];
        assert_eq!((print.attacks, print.sources, print.apcer), (10, 2, 0.1));
        assert!(print.apcer_ci.unwrap().contains(0.1));
        assert_eq!(r.species["replay_screen"].apcer, 0.4);
        assert_eq!(r.species[UNNAMED].attacks, 1);
        assert_eq!(r.worst, Some(("replay_screen".to_string(), 0.4)));
        assert!(table("t", &r).contains("worst species APCER 40.0% (replay_screen)"));
    }

    #[test]
    fn no_attacks_no_worst() {
        let r = build(Vec::new());
        assert!(r.species.is_empty() && r.worst.is_none());
        assert_eq!(table("t", &r), "");
    }
}
