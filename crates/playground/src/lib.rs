//! The web Playground (`/`) and the API reference (`/docs`, rendered from `/openapi.json`),
//! served from assets compiled into the binary.
//!
//! Plain HTML, CSS and ES modules with no build step and no third-party code: the page must
//! work on an air-gapped server, and what ships is exactly what is in `assets/`. The Content
//! Security Policy makes "no CDN" a property the browser enforces, not a convention.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One embedded file: its URL path, MIME type and bytes.
struct Asset {
    path: &'static str,
    mime: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        mime: "text/html; charset=utf-8",
        body: include_str!("../assets/index.html"),
    },
    Asset {
        path: "/playground/style.css",
        mime: "text/css; charset=utf-8",
        body: include_str!("../assets/style.css"),
    },
    Asset {
        path: "/playground/js/main.js",
        mime: "text/javascript; charset=utf-8",
        body: include_str!("../assets/js/main.js"),
    },
    Asset {
        path: "/playground/js/api.js",
        mime: "text/javascript; charset=utf-8",
        body: include_str!("../assets/js/api.js"),
    },
    Asset {
        path: "/playground/js/single.js",
        mime: "text/javascript; charset=utf-8",
        body: include_str!("../assets/js/single.js"),
    },
    Asset {
        path: "/playground/js/render.js",
        mime: "text/javascript; charset=utf-8",
        body: include_str!("../assets/js/render.js"),
    },
    Asset {
        path: "/playground/js/bulk.js",
        mime: "text/javascript; charset=utf-8",
        body: include_str!("../assets/js/bulk.js"),
    },
    Asset {
        path: "/docs",
        mime: "text/html; charset=utf-8",
        body: include_str!("../assets/docs/index.html"),
    },
    Asset {
        path: "/docs/docs.js",
        mime: "text/javascript; charset=utf-8",
        body: include_str!("../assets/docs/docs.js"),
    },
    Asset {
        path: "/docs/docs.css",
        mime: "text/css; charset=utf-8",
        body: include_str!("../assets/docs/docs.css"),
    },
    Asset {
        path: "/favicon.svg",
        mime: "image/svg+xml",
        body: include_str!("../assets/favicon.svg"),
    },
];

/// Only our own origin; images and videos the user picks are shown from `blob:` URLs.
const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; \
                   style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; \
                   base-uri 'none'; frame-ancestors 'none'";

/// `/`, `/playground/*`, `/docs`, `/docs/*` and `/favicon.svg`. Merge it into the API router; it needs no state and no auth (the
/// page itself is public, the API calls it makes carry the token the user types in).
pub fn router() -> axum::Router {
    let mut r = axum::Router::new();
    for asset in ASSETS {
        r = r.route(asset.path, get(move || serve(asset)));
    }
    r
}

async fn serve(asset: &'static Asset) -> Response {
    let mut res = (StatusCode::OK, asset.body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Assets change only with the binary; a short cache keeps upgrades visible.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module the page imports is one we serve, and nothing points off-site.
    #[test]
    fn assets_are_self_contained() {
        let served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        for a in ASSETS {
            for (i, _) in a.body.match_indices("from './") {
                let rest = &a.body[i + "from './".len()..];
                let end = rest.find('\'').expect("closing quote");
                let path = format!("/playground/js/{}", &rest[..end]);
                assert!(
                    served.contains(&path.as_str()),
                    "{} imports unserved {path}",
                    a.path
                );
            }
            // An XML namespace is a name, never fetched: the only URL-shaped text allowed.
            let body = a.body.replace(r#"xmlns="http://www.w3.org/2000/svg""#, "");
            for scheme in ["http://", "https://", "//cdn"] {
                assert!(!body.contains(scheme), "{} references {scheme}", a.path);
            }
        }
        let page = |path: &str| ASSETS.iter().find(|a| a.path == path).unwrap().body;
        for (html, wants) in [
            (
                page("/"),
                &[
                    "/playground/js/main.js",
                    "/playground/style.css",
                    "/favicon.svg",
                ][..],
            ),
            (
                page("/docs"),
                &["/docs/docs.js", "/docs/docs.css", "/favicon.svg"][..],
            ),
        ] {
            for want in wants {
                assert!(served.contains(want), "{want} is not served");
                assert!(html.contains(want), "a page does not load {want}");
            }
        }
    }
}
