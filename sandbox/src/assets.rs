//! The Stripe.js stand-in's static files (`sandbox/assets/`), embedded in the binary with
//! `include_bytes!` and served under `/v3/`: `stripe.js` itself at `/v3/`, the card Element's
//! iframe at `/v3/elements/card.html`, the Payment Element's at `/v3/elements/payment.html`
//! (which loads card.js for its card tab), the Express Checkout Element's at
//! `/v3/elements/express.html` (both share wallet.js) and the 3-D Secure challenge page at
//! `/v3/3ds/challenge.html`, each with its external script and stylesheet (the pages are served
//! under `Content-Security-Policy: default-src 'self'`, so nothing is inline).

/// One embedded static file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The `Content-Type` to answer with.
    pub content_type: &'static str,
    /// The file's bytes.
    pub body: &'static [u8],
}

const JAVASCRIPT: &str = "application/javascript; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file, by its path below `/v3/`. `""` is Stripe.js, loaded as `<script src=".../v3/">`.
const ASSETS: &[(&str, Asset)] = &[
    (
        "",
        Asset {
            content_type: JAVASCRIPT,
            body: include_bytes!("../assets/stripe.js"),
        },
    ),
    (
        "elements/card.html",
        Asset {
            content_type: HTML,
            body: include_bytes!("../assets/elements/card.html"),
        },
    ),
    (
        "elements/card.js",
        Asset {
            content_type: JAVASCRIPT,
            body: include_bytes!("../assets/elements/card.js"),
        },
    ),
    (
        "elements/card.css",
        Asset {
            content_type: CSS,
            body: include_bytes!("../assets/elements/card.css"),
        },
    ),
    (
        "elements/payment.html",
        Asset {
            content_type: HTML,
            body: include_bytes!("../assets/elements/payment.html"),
        },
    ),
    (
        "elements/payment.js",
        Asset {
            content_type: JAVASCRIPT,
            body: include_bytes!("../assets/elements/payment.js"),
        },
    ),
    (
        "elements/payment.css",
        Asset {
            content_type: CSS,
            body: include_bytes!("../assets/elements/payment.css"),
        },
    ),
    (
        "elements/express.html",
        Asset {
            content_type: HTML,
            body: include_bytes!("../assets/elements/express.html"),
        },
    ),
    (
        "elements/express.js",
        Asset {
            content_type: JAVASCRIPT,
            body: include_bytes!("../assets/elements/express.js"),
        },
    ),
    (
        "elements/express.css",
        Asset {
            content_type: CSS,
            body: include_bytes!("../assets/elements/express.css"),
        },
    ),
    (
        "elements/wallet.js",
        Asset {
            content_type: JAVASCRIPT,
            body: include_bytes!("../assets/elements/wallet.js"),
        },
    ),
    (
        "3ds/challenge.html",
        Asset {
            content_type: HTML,
            body: include_bytes!("../assets/3ds/challenge.html"),
        },
    ),
    (
        "3ds/challenge.js",
        Asset {
            content_type: JAVASCRIPT,
            body: include_bytes!("../assets/3ds/challenge.js"),
        },
    ),
    (
        "3ds/challenge.css",
        Asset {
            content_type: CSS,
            body: include_bytes!("../assets/3ds/challenge.css"),
        },
    ),
];

/// The asset at `path` below `/v3/` (`""` is Stripe.js itself), if there is one.
///
/// Only the fixed table above is served: a path is a lookup key, never a file-system path, so
/// `..` and the like cannot reach anything else.
pub fn asset(path: &str) -> Option<Asset> {
    ASSETS
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, asset)| *asset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn assets_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
    }

    /// Every file under `dir`, as a path relative to `root` with `/` separators.
    fn files_under(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("assets directory is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                files_under(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).expect("under root");
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    fn served_path(file: &str) -> &str {
        if file == "stripe.js" {
            ""
        } else {
            file
        }
    }

    #[test]
    fn stripe_js_is_served_at_the_root_as_javascript() {
        let stripe = asset("").expect("stripe.js at /v3/");
        assert_eq!(stripe.content_type, "application/javascript; charset=utf-8");
        let text = std::str::from_utf8(stripe.body).expect("utf-8");
        assert!(
            text.contains("var Stripe = "),
            "stripe.js defines the global Stripe"
        );
    }

    #[test]
    fn stripe_version_is_the_release_train_of_the_api_version() {
        let text = std::str::from_utf8(asset("").expect("stripe.js").body).expect("utf-8");
        let train = crate::state::DEFAULT_API_VERSION
            .rsplit('.')
            .next()
            .expect("a dated version with its train");
        assert!(
            text.contains(&format!("var STRIPE_JS_VERSION = '{train}';")),
            "Stripe.version must be '{train}', the train of {}",
            crate::state::DEFAULT_API_VERSION
        );
        assert!(text.contains("StripeFactory.version = STRIPE_JS_VERSION;"));
    }

    #[test]
    fn every_file_in_the_assets_directory_is_served_with_its_bytes_and_type() {
        let root = assets_dir();
        let mut files = Vec::new();
        files_under(&root, &root, &mut files);
        assert!(files.len() >= 7, "found {files:?}");
        for file in &files {
            let served = asset(served_path(file)).unwrap_or_else(|| panic!("{file} is not served"));
            let on_disk = std::fs::read(root.join(file)).expect("readable");
            assert_eq!(
                served.body,
                on_disk.as_slice(),
                "{file} is served as on disk"
            );
            let expected = match file.rsplit('.').next() {
                Some("js") => JAVASCRIPT,
                Some("html") => HTML,
                Some("css") => CSS,
                other => panic!("{file}: no content type for extension {other:?}"),
            };
            assert_eq!(served.content_type, expected, "{file}");
        }
        assert_eq!(files.len(), ASSETS.len(), "no table entry without a file");
    }

    /// The values of `attribute="..."` in an HTML page.
    fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
        let needle = format!(" {attribute}=\"");
        html.match_indices(&needle)
            .map(|(at, _)| {
                let rest = &html[at + needle.len()..];
                &rest[..rest.find('"').expect("closing quote")]
            })
            .collect()
    }

    #[test]
    fn pages_reference_only_served_files() {
        for page in [
            "elements/card.html",
            "elements/payment.html",
            "3ds/challenge.html",
        ] {
            let html = std::str::from_utf8(asset(page).expect("page").body).expect("utf-8");
            let dir = page.rsplit_once('/').map_or("", |(dir, _)| dir);
            let mut references = attribute_values(html, "src");
            references.extend(attribute_values(html, "href"));
            assert!(
                references.len() >= 2,
                "{page} loads its script and stylesheet"
            );
            for reference in references {
                assert!(
                    !reference.contains(':') && !reference.starts_with('/'),
                    "{page}: {reference} is relative"
                );
                let target = format!("{dir}/{reference}");
                assert!(
                    asset(&target).is_some(),
                    "{page} references {target}, which is not served"
                );
            }
        }
    }

    #[test]
    fn pages_have_nothing_inline_that_a_strict_csp_would_block() {
        for page in [
            "elements/card.html",
            "elements/payment.html",
            "3ds/challenge.html",
        ] {
            let html = std::str::from_utf8(asset(page).expect("page").body).expect("utf-8");
            let lower = html.to_ascii_lowercase();
            assert!(!lower.contains("<style"), "{page}: inline <style>");
            assert!(!lower.contains(" style="), "{page}: style attribute");
            for (at, _) in lower.match_indices("<script") {
                let tag = &lower[at..at + lower[at..].find('>').expect("tag end")];
                assert!(tag.contains(" src="), "{page}: inline script {tag}");
            }
            for (at, _) in lower.match_indices(" on") {
                let word: String = lower[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                let after = lower[at + 1 + word.len()..].chars().next();
                assert!(
                    !(word.len() > 2 && after == Some('=')),
                    "{page}: inline event handler {word}"
                );
            }
        }
    }

    #[test]
    fn unknown_paths_and_traversal_find_nothing() {
        for path in [
            "stripe.js",
            "../Cargo.toml",
            "elements/../stripe.js",
            "elements/",
            "v3",
            "/",
        ] {
            assert!(asset(path).is_none(), "{path} must not be served");
        }
    }
}
