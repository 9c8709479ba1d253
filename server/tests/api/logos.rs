//! A merchant's logo uploaded through the platform API: served by slotpay at an address made
//! of its hash with the headers that keep it an image, shown by the payment-link page before
//! the logo URL, replaced and removed; and every upload that is not a PNG, JPEG, WebP or GIF
//! image of at most 256 KiB (SVG, HTML, garbage, nothing, too much), or not the admin's, or
//! not a merchant's, refused with its code and nothing stored.

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{both_backends, Resp, TestApp};

both_backends!(
    an_uploaded_logo_is_served_and_shown_before_the_url,
    refused_uploads_store_nothing
);

/// A real PNG image, 2×1 pixels.
pub(crate) fn png() -> Vec<u8> {
    hex::decode(
        "89504e470d0a1a0a0000000d4948445200000002000000010806000000f4227f8a0000000f49444154\
         789c63d0cf8ffb0f040c0014b004f906f372810000000049454e44ae426082",
    )
    .unwrap()
}

/// The start of a JPEG (JFIF) file, to its end-of-image marker.
fn jpeg() -> Vec<u8> {
    b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9".to_vec()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `PUT /v1/admin/merchants/{id}/logo` with these bytes as `content_type`.
pub(crate) async fn upload(
    app: &TestApp,
    merchant: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Resp {
    app.request_bytes(
        Method::PUT,
        &format!("/v1/admin/merchants/{merchant}/logo"),
        Some(content_type),
        bytes,
    )
    .await
}

/// A GET of one of the server's paths, its body as bytes.
async fn fetch(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = app
        .client
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// The path part of an absolute URL of this server.
fn path_of(app: &TestApp, url: &Value) -> String {
    let url = url.as_str().unwrap_or_else(|| panic!("not a URL: {url}"));
    url.strip_prefix(app.url.trim_end_matches('/'))
        .unwrap_or_else(|| panic!("{url} is not under {}", app.url))
        .to_owned()
}

async fn an_uploaded_logo_is_served_and_shown_before_the_url(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let merchant = format!("/v1/admin/merchants/{}", m.id);
    app.patch(
        &merchant,
        json!({"logo_url": "https://brand.salon.example/logo.png"}),
    )
    .await
    .expect(200);
    let link = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Cut", "link": true}),
        )
        .await;
    let before = app.get(&merchant).await.expect(200).json;

    // Uploaded: the answer names where it is served, and it is the logo shown.
    let png = png();
    let hash = sha256(&png);
    let up = upload(&app, &m.id, "image/png", png.clone())
        .await
        .expect(200);
    let served = format!("/logos/{}/{hash}.png", m.id);
    assert_eq!(
        up.json["logo_upload"],
        json!({
            "url": format!("{}{served}", app.url.trim_end_matches('/')),
            "media_type": "image/png",
            "sha256": hash,
            "size": png.len(),
        })
    );
    assert_eq!(up.json["logo"], up.json["logo_upload"]["url"]);
    assert_eq!(
        up.json["logo_url"], "https://brand.salon.example/logo.png",
        "kept"
    );
    assert!(up.json["updated_at"].as_i64() >= before["updated_at"].as_i64());
    assert_eq!(app.get(&merchant).await.expect(200).json, up.json);
    let listed = app.get("/v1/admin/merchants").await.expect(200);
    assert_eq!(
        listed.json["data"][0]["logo_upload"]["sha256"],
        hash.as_str()
    );

    // Served as the image it is, cached for good, never run as anything else.
    let (status, headers, body) = fetch(&app, &path_of(&app, &up.json["logo"])).await;
    assert_eq!(status, 200);
    assert_eq!(body, png);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; sandbox"
    );

    // The payment-link page shows it, from this origin: no other image origin is allowed.
    let page = app.get(&format!("/pay/{link}")).await.expect(200);
    let tag = format!(r#"<img class="sp-logo" src="{served}" alt="">"#);
    assert!(page.text.contains(&tag), "{}", page.text);
    assert!(!page.text.contains("brand.salon.example"), "{}", page.text);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("img-src 'self' data:;") && !csp.contains("brand.salon.example"),
        "{csp}"
    );

    // Only its own address answers: another hash, extension or merchant is not found.
    let other = app.merchant(&[]).await;
    let zeros = "0".repeat(64);
    for wrong in [
        format!("/logos/{}/{zeros}.png", m.id),
        format!("/logos/{}/{hash}.jpg", m.id),
        format!("/logos/{}/{hash}.svg", m.id),
        format!("/logos/{}/{hash}", m.id),
        format!("/logos/{}/{}.png", m.id, hash.to_uppercase()),
        format!("/logos/{other}/{hash}.png"),
        format!("/logos/mer_000000000000000000000000/{hash}.png"),
    ] {
        let r = app.get(&wrong).await.expect_error(404, "not_found", None);
        assert!(!r.headers.contains_key("cache-control"), "{wrong}");
    }

    // Replaced: a new address; the old one is gone.
    let jpeg = jpeg();
    let replaced = upload(&app, &m.id, "image/jpeg", jpeg.clone())
        .await
        .expect(200);
    let new_path = format!("/logos/{}/{}.jpg", m.id, sha256(&jpeg));
    assert_eq!(path_of(&app, &replaced.json["logo"]), new_path);
    assert_eq!(replaced.json["logo_upload"]["media_type"], "image/jpeg");
    assert_eq!(fetch(&app, &served).await.0, 404);
    let (status, headers, body) = fetch(&app, &new_path).await;
    assert_eq!((status, body), (200, jpeg));
    assert_eq!(headers["content-type"], "image/jpeg");

    // Removed: its address is gone and the page shows the logo URL again.
    let removed = app.delete(&format!("{merchant}/logo")).await.expect(200);
    assert_eq!(removed.json["logo_upload"], Value::Null);
    assert_eq!(removed.json["logo"], "https://brand.salon.example/logo.png");
    assert_eq!(fetch(&app, &new_path).await.0, 404);
    let page = app.get(&format!("/pay/{link}")).await.expect(200);
    assert!(
        page.text
            .contains(r#"<img class="sp-logo" src="https://brand.salon.example/logo.png" alt="">"#),
        "{}",
        page.text
    );
    assert!(!page.text.contains("/logos/"), "{}", page.text);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("img-src 'self' data: https://brand.salon.example;"),
        "{csp}"
    );
    // Removing none changes nothing; without a logo URL either, no logo at all.
    let again = app.delete(&format!("{merchant}/logo")).await.expect(200);
    assert_eq!(again.json["updated_at"], removed.json["updated_at"]);
    let bare = app
        .patch(&merchant, json!({"logo_url": ""}))
        .await
        .expect(200);
    assert_eq!(bare.json["logo"], Value::Null);
    // A closed page (paid) shows an uploaded logo too.
    upload(&app, &m.id, "image/png", png).await.expect(200);
    let pm = app.card("4242424242424242").await;
    app.pay(&link, &pm, "k").await.expect(200);
    let paid = app.get(&format!("/pay/{link}")).await.expect(200);
    assert!(paid.text.contains(&tag), "{}", paid.text);
    // The merchant's logo goes with it.
    let deleted = app
        .post("/v1/admin/merchants", json!({"name": "Gone soon"}))
        .await
        .expect(201);
    let gone = deleted.json["id"].as_str().unwrap();
    let up = upload(&app, gone, "image/png", self::png())
        .await
        .expect(200);
    app.delete(&format!("/v1/admin/merchants/{gone}"))
        .await
        .expect(200);
    assert_eq!(fetch(&app, &path_of(&app, &up.json["logo"])).await.0, 404);
    assert_eq!(stored_logos(&app).await, 1, "only the first merchant's");
}

/// The answer to a PUT of `path` whose head declares `length` bytes of PNG, none of which
/// are sent.
async fn declared_only(app: &TestApp, path: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Authorization: Bearer {}\r\nContent-Type: image/png\r\nContent-Length: {length}\r\n\r\n",
        app.admin_token
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        socket.read_to_end(&mut answer),
    )
    .await
    .expect("answered without the body")
    .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// How many logos are stored.
async fn stored_logos(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM merchant_logos")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

async fn refused_uploads_store_nothing(app: TestApp) {
    let id = app.merchant(&[]).await;
    let before = app
        .get(&format!("/v1/admin/merchants/{id}"))
        .await
        .expect(200)
        .json;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>"#;
    let html = b"<!doctype html><html><script>alert(1)</script></html>";
    let mut big = png();
    big.resize(300 * 1024, 0);
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "SVG as SVG",
            "image/svg+xml",
            svg.to_vec(),
            400,
            "invalid_logo",
        ),
        ("SVG as PNG", "image/png", svg.to_vec(), 400, "invalid_logo"),
        (
            "SVG as bytes",
            "application/octet-stream",
            svg.to_vec(),
            400,
            "invalid_logo",
        ),
        ("HTML", "text/html", html.to_vec(), 400, "invalid_logo"),
        (
            "HTML as PNG",
            "image/png",
            html.to_vec(),
            400,
            "invalid_logo",
        ),
        (
            "garbage",
            "image/png",
            b"\x00\x01garbage".to_vec(),
            400,
            "invalid_logo",
        ),
        (
            "a JSON body",
            "application/json",
            b"{\"logo\": 1}".to_vec(),
            400,
            "invalid_logo",
        ),
        ("nothing", "image/png", Vec::new(), 400, "invalid_logo"),
        (
            "a PNG sent as JPEG",
            "image/jpeg",
            png(),
            400,
            "invalid_logo",
        ),
        (
            "a PNG sent as SVG",
            "image/svg+xml",
            png(),
            400,
            "invalid_logo",
        ),
        (
            "a PNG of 300 KiB",
            "image/png",
            big,
            413,
            "payload_too_large",
        ),
    ];
    for (what, content_type, body, status, code) in cases {
        let r = upload(&app, &id, content_type, body).await;
        assert_eq!(r.status.as_u16(), status, "{what}: {}", r.text);
        assert_eq!(r.code(), code, "{what}: {}", r.text);
        assert_eq!(r.json["error"]["param"], "logo", "{what}");
    }
    let r = upload(&app, &id, "image/png", Vec::new()).await;
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("empty"),
        "{}",
        r.text
    );
    let r = upload(&app, &id, "image/svg+xml", svg.to_vec()).await;
    assert_eq!(
        r.json["error"]["message"],
        "The logo must be a PNG, JPEG, WebP or GIF image, and this file is none of them (SVG is \
         not accepted: it can carry script)"
    );
    let r = upload(&app, &id, "image/jpeg", png()).await;
    assert_eq!(
        r.json["error"]["message"],
        "The file is a PNG image but was sent as image/jpeg: send it as image/png"
    );
    // Without a Content-Type the bytes say what they are (and they are not an image).
    let r = app
        .request_bytes(
            Method::PUT,
            &format!("/v1/admin/merchants/{id}/logo"),
            None,
            svg.to_vec(),
        )
        .await;
    r.expect_error(400, "invalid_logo", Some("logo"));
    // Declared larger than any upload: refused before a byte of it is read (only the head
    // is sent; the answer comes all the same).
    let answer = declared_only(
        &app,
        &format!("/v1/admin/merchants/{id}/logo"),
        1024 * 1024 + 1,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(answer.contains(r#""code":"payload_too_large""#), "{answer}");

    // No admin token, a wrong one, an unknown merchant.
    for auth in ["", "Bearer not-the-admin-token-at-all"] {
        let mut req = app
            .client
            .put(format!("{}/v1/admin/merchants/{id}/logo", app.url))
            .header("content-type", "image/png")
            .body(png());
        if !auth.is_empty() {
            req = req.header("authorization", auth);
        }
        let r = crate::helpers::into_resp(req.send().await.unwrap()).await;
        r.expect_error(401, "unauthorized", None);
        let r = app
            .client
            .delete(format!("{}/v1/admin/merchants/{id}/logo", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    upload(&app, "mer_000000000000000000000000", "image/png", png())
        .await
        .expect_error(404, "not_found", None);
    app.delete("/v1/admin/merchants/mer_000000000000000000000000/logo")
        .await
        .expect_error(404, "not_found", None);

    // Nothing was stored, and the merchant did not change.
    assert_eq!(stored_logos(&app).await, 0);
    let after = app
        .get(&format!("/v1/admin/merchants/{id}"))
        .await
        .expect(200)
        .json;
    assert_eq!(after, before);
    assert_eq!(after["logo_upload"], Value::Null);
    assert_eq!(after["logo"], Value::Null);
    // And a good one is still taken afterwards.
    upload(&app, &id, "image/png", png()).await.expect(200);
    assert_eq!(stored_logos(&app).await, 1);
}
