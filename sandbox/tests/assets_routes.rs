//! The Stripe.js stand-in's routes: `/v3`, `/v3/` and `/v3/{path}` with `Cache-Control:
//! no-cache`, `Access-Control-Allow-Origin: *`, and a CSP on HTML pages; 404 for unknown files.

mod common;

use common::*;

/// As Stripe's CDN, Stripe.js goes gzipped to a browser that accepts it, plain otherwise.
#[tokio::test]
async fn stripe_js_is_compressed_for_browsers_that_accept_it() {
    let env = start().await;
    let asset = stripe_sandbox::assets::asset("").unwrap().body;
    let r = env
        .http
        .get(format!("{}/v3/", env.sb.url))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let body = r.bytes().await.unwrap();
    assert_eq!(&body[..2], &[0x1f, 0x8b], "a gzip stream");
    assert!(
        body.len() < asset.len() / 2,
        "{} of {} B",
        body.len(),
        asset.len()
    );
}

#[tokio::test]
async fn stripe_js_and_pages_are_served_with_their_headers() {
    let env = start().await;
    for path in ["/v3", "/v3/"] {
        let r = env
            .http
            .get(format!("{}{path}", env.sb.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers().clone();
        assert!(
            h["content-type"].to_str().unwrap().contains("javascript"),
            "{path}"
        );
        assert_eq!(h["cache-control"], "no-cache");
        assert_eq!(h["access-control-allow-origin"], "*");
        let body = r.bytes().await.unwrap();
        assert_eq!(&body[..], stripe_sandbox::assets::asset("").unwrap().body);
    }
    let page = env
        .http
        .get(format!("{}/v3/3ds/challenge.html", env.sb.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(
        page.headers()["content-security-policy"],
        "default-src 'self'; frame-ancestors *"
    );
    let missing = env
        .http
        .get(format!("{}/v3/nope.js", env.sb.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
