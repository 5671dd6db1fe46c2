//! Who a stored batch belongs to, and who may reach it.
//!
//! Every job carries its owner from the moment it is accepted; every read, download, cancel and
//! erase is filtered by it in the store's own queries, so a lookup by someone else's id finds
//! nothing at all (the HTTP edge answers 404, never 403: no existence oracle).

use serde::Serialize;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// The client a job belongs to: the token's `sub`, within its issuer and an optional tenant (a
/// configurable claim). A `sub` is unique only within the identity provider that issued it
/// (RFC 7519 §4.1.2), so two providers' `user-1` are different owners, as are two tenants'.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Owner {
    /// The token's verified `iss`; empty when the server names no issuer (it then checks none,
    /// and every token it accepts speaks for the same namespace of `sub`s).
    pub issuer: String,
    /// Empty when the server reads no tenant claim.
    pub tenant: String,
    pub sub: String,
}

impl Owner {
    /// An owner of a server that names no issuer.
    pub fn new(tenant: impl Into<String>, sub: impl Into<String>) -> Self {
        Self {
            issuer: String::new(),
            tenant: tenant.into(),
            sub: sub.into(),
        }
    }

    /// The same client, as named by the issuer `iss`.
    pub fn issued_by(self, iss: impl Into<String>) -> Self {
        Self {
            issuer: iss.into(),
            ..self
        }
    }

    /// The owner of work that never crossed HTTP (`livegate batch`, tests).
    pub fn local() -> Self {
        Self::new("", "local")
    }
}

/// The reach of one caller over stored jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Only the caller's own jobs.
    Owner(Owner),
    /// Every client's jobs within one tenant of one issuer: the admin scope of a server that
    /// serves several tenants or identity providers (one tenant's administrator is not
    /// another's).
    Tenant { issuer: String, tenant: String },
    /// Every client's jobs: the operator (the admin scope with `--admin-across-tenants`, the
    /// retention sweep, the runner).
    Admin,
}

/// What a store filters jobs by: an issuer and tenant, and within them one `sub` or all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach<'a> {
    pub issuer: &'a str,
    pub tenant: &'a str,
    /// `None`: every client of the tenant.
    pub sub: Option<&'a str>,
}

impl Access {
    /// The filter a store applies, or `None` when it reaches every job.
    pub fn reach(&self) -> Option<Reach<'_>> {
        match self {
            Access::Owner(o) => Some(Reach {
                issuer: &o.issuer,
                tenant: &o.tenant,
                sub: Some(&o.sub),
            }),
            Access::Tenant { issuer, tenant } => Some(Reach {
                issuer,
                tenant,
                sub: None,
            }),
            Access::Admin => None,
        }
    }
}

/// How many places each owner holds in some bounded resource (queue places, uploads in
/// progress, connections per address), so that no single owner can take all of them.
#[derive(Debug, Clone)]
pub struct Holdings<K: Eq + Hash + Clone = Owner>(Arc<Mutex<HashMap<K, usize>>>);

impl<K: Eq + Hash + Clone> Default for Holdings<K> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<K: Eq + Hash + Clone> Holdings<K> {
    /// Places `owner` holds now.
    pub fn held_by(&self, owner: &K) -> usize {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(owner).copied().unwrap_or(0)
    }

    /// Takes one place for `owner`, unless it already holds `max`.
    pub fn take(&self, owner: &K, max: usize) -> Option<Held<K>> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(owner.clone()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Held {
            owner: owner.clone(),
            holdings: self.clone(),
        })
    }
}

/// One place held by an owner; dropping it gives the place back.
#[derive(Debug)]
pub struct Held<K: Eq + Hash + Clone = Owner> {
    owner: K,
    holdings: Holdings<K>,
}

impl<K: Eq + Hash + Clone> Drop for Held<K> {
    fn drop(&mut self) {
        let mut map = self.holdings.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.owner) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.owner);
            }
        }
    }
}
