//! The payments report (JSON and CSV, field by field: quoting of a description with a comma,
//! a quote and a newline, a formula-like booking reference), the payment-link page (escaped
//! HTML, the strict CSP, the widget's mount point, its words in the merchant's language) and
//! the `www/` files; the list searched by email or booking reference and grouped by whether
//! money was taken.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{both_backends, TestApp};

both_backends!(
    report_json_and_csv,
    payment_link_page_and_static_files,
    a_merchant_with_payments_is_not_deleted,
    checkouts_are_searched_and_grouped,
);

/// Deleting a merchant must not take its payment records with it (refunds, disputes and the
/// report need them); a merchant without checkouts can still be deleted.
async fn a_merchant_with_payments_is_not_deleted(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Coupe"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k").await.expect(200);
    let path = format!("/v1/admin/merchants/{}", m.id);
    app.delete(&path).await.expect_error(409, "conflict", None);
    app.get(&path).await.expect(200);
    app.get(&format!("/v1/admin/checkouts/{token}"))
        .await
        .expect(200);

    let empty = app.pay_merchant(None).await;
    let path = format!("/v1/admin/merchants/{}", empty.id);
    app.delete(&path).await.expect(200);
    app.get(&path).await.expect_error(404, "not_found", None);
}

async fn report_json_and_csv(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let description = "Coupe, \"brushing\"\net soin";
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": description,
                   "booking_ref": "=HYPERLINK(\"http://x\")", "customer_email": "zoé@example.com"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k").await.expect(200);
    app.request(
        Method::POST,
        &format!("/v1/admin/checkouts/{token}/refunds"),
        Some(json!({"amount": 500})),
        &[("idempotency-key", "r")],
    )
    .await
    .expect(200);
    let open = app
        .checkout(
            &m.id,
            json!({"amount": 1200, "currency": "usd", "description": "Open one",
                                "booking_ref": "BK-2"}),
        )
        .await;
    app.settle_webhooks().await;
    // The fee comes from Stripe's balance transaction (2.9% + 30 in the sandbox).
    app.request(
        Method::POST,
        &format!("/v1/checkouts/{token}/refresh"),
        None,
        &[],
    )
    .await
    .expect(200);

    let path = format!("/v1/admin/merchants/{}/payments", m.id);
    let r = app.get(&path).await.expect(200);
    let rows = r.json["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let paid = rows.iter().find(|x| x["token"] == token.as_str()).unwrap();
    let stored = app.stored(&token).await;
    assert_eq!(paid["status"], "partially_refunded");
    assert_eq!(paid["amount"], 2500);
    assert_eq!(paid["currency"], "eur");
    assert_eq!(paid["amount_captured"], 2500);
    assert_eq!(paid["stripe_fee"], 103);
    assert_eq!(paid["amount_refunded"], 500);
    assert_eq!(paid["amount_disputed"], 0);
    assert_eq!(paid["dispute_status"], serde_json::Value::Null);
    assert_eq!(paid["cancellation_fees"], 0);
    assert_eq!(paid["booking_ref"], "=HYPERLINK(\"http://x\")");
    assert_eq!(paid["customer_email"], "lea@example.com");
    assert_eq!(paid["description"], description);
    assert_eq!(paid["card_brand"], "visa");
    assert_eq!(paid["card_last4"], "4242");
    assert_eq!(
        paid["payment_intent_id"].as_str(),
        stored.payment_intent_id.as_deref()
    );
    let created = paid["created_at"].as_str().unwrap();
    assert!(
        created.len() == 20 && created.ends_with('Z') && created.contains('T'),
        "{created}"
    );
    assert!(paid["paid_at"].as_str().unwrap().ends_with('Z'));
    let other = rows.iter().find(|x| x["token"] == open.as_str()).unwrap();
    assert_eq!(
        (other["status"].as_str(), other["paid_at"].is_null()),
        (Some("open"), true)
    );

    // Filters.
    let only = app.get(&format!("{path}?status=open")).await.expect(200);
    assert_eq!(only.json["data"].as_array().unwrap().len(), 1);
    let none = app
        .get(&format!("{path}?from=2000-01-01&to=2000-01-02"))
        .await
        .expect(200);
    assert_eq!(none.json["data"].as_array().unwrap().len(), 0);
    app.get(&format!("{path}?from=yesterday"))
        .await
        .expect_error(400, "invalid_request", Some("from"));
    app.get(&format!("{path}?format=xml")).await.expect_error(
        400,
        "invalid_request",
        Some("format"),
    );

    let csv = app
        .get(&format!("{path}?format=csv&status=partially_refunded"))
        .await
        .expect(200);
    assert!(csv.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    assert!(csv.text.starts_with('\u{feff}'), "UTF-8 BOM");
    let body = csv.text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "checkout,created_at,paid_at,status,currency,amount,captured,stripe_fee,stripe_fee_currency,\
         refunded,disputed,dispute_status,cancellation_fees,booking_ref,customer_email,description,\
         payment_intent,card_brand,card_last4"
    );
    let expected = format!(
        "{token},{created},{paid_at},partially_refunded,eur,25.00,25.00,1.03,eur,5.00,0.00,,0.00,\
         \"'=HYPERLINK(\"\"http://x\"\")\",lea@example.com,\"Coupe, \"\"brushing\"\"\net soin\",{pi},visa,4242",
        paid_at = paid["paid_at"].as_str().unwrap(),
        pi = stored.payment_intent_id.unwrap(),
    );
    assert_eq!(body, format!("{}\r\n{expected}\r\n", lines[0]));
}

async fn payment_link_page_and_static_files(app: TestApp) {
    let m = app.pay_merchant(None).await;
    app.patch(
        &format!("/v1/admin/merchants/{}", m.id),
        json!({"name": "<b>Salon</b> & Co", "locale": "fr"}),
    )
    .await
    .expect(200);
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 4550, "currency": "eur", "description": "<script>alert(1)</script>",
                   "link": true}),
        )
        .await;
    let page = app.get(&format!("/pay/{token}")).await.expect(200);
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    let sandbox = app.sandbox.url.clone();
    assert_eq!(
        csp,
        format!(
            "default-src 'self'; script-src 'self' {sandbox} 'wasm-unsafe-eval'; frame-src {sandbox}; \
             connect-src 'self' {sandbox}; style-src 'self'; img-src 'self' data:; \
             frame-ancestors 'none'"
        )
    );
    assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"));
    assert!(page.text.contains(&format!(
        "<slotpay-checkout checkout=\"{token}\"></slotpay-checkout>"
    )));
    assert!(page
        .text
        .contains("<script src=\"/slotpay.js\" async></script>"));
    assert!(
        page.text
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("<script>alert"));
    assert!(page.text.contains("&#60;b&#62;Salon&#60;/b&#62; &#38; Co"));
    // The widget shows merchant, description and amount; the page repeats them only for
    // browsers without JavaScript.
    let noscript =
        &page.text[page.text.find("<noscript>").unwrap()..page.text.find("</noscript>").unwrap()];
    assert!(noscript.contains("45,50\u{a0}€"), "{}", page.text);
    assert!(noscript.contains("JavaScript est nécessaire"), "{noscript}");
    assert!(
        !page.text.contains("sp-reference"),
        "no reference row without one"
    );
    let with_ref = app
        .checkout(
            &m.id,
            json!({"amount": 4550, "currency": "eur", "description": "x", "link": true,
                   "booking_ref": "BK-9"}),
        )
        .await;
    let page_ref = app.get(&format!("/pay/{with_ref}")).await.expect(200);
    assert!(
        page_ref.text.contains("Référence de réservation : BK-9"),
        "the reference is labelled: {}",
        page_ref.text
    );
    assert_eq!(
        page.text.matches("45,50\u{a0}€").count(),
        1,
        "{}",
        page.text
    );
    assert!(page.text.contains("<html lang=\"fr\">"));
    // No inline script or style at all.
    assert_eq!(page.text.matches("<script").count(), 1);
    assert!(!page.text.contains("<style") && !page.text.contains("style="));
    let css = app.get("/assets/slotpay-page.css").await.expect(200);
    assert!(css.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    // Not found: no merchant, so in the browser's language (German first here).
    let unknown = app
        .request(
            Method::GET,
            "/pay/cs_unknownunknownunknownunknown",
            None,
            &[("accept-language", "nl-NL, de;q=0.8, en;q=0.5")],
        )
        .await
        .expect(404);
    assert!(
        unknown.text.contains("Zahlungslink nicht gefunden")
            && unknown.text.contains("<html lang=\"de\">"),
        "{}",
        unknown.text
    );
    let unknown = app
        .get("/pay/cs_unknownunknownunknownunknown")
        .await
        .expect(404);
    assert!(
        unknown.text.contains("Payment link not found"),
        "{}",
        unknown.text
    );
    assert!(!page.text.contains("sp-logo"), "no logo until one is set");
    // The merchant's logo heads the page; its origin, and only it, joins the images allowed.
    app.patch(
        &format!("/v1/admin/merchants/{}", m.id),
        json!({"logo_url": "https://brand.salon.example/img/logo.png?v=2&x=\"1"}),
    )
    .await
    .expect(200);
    let branded = app.get(&format!("/pay/{token}")).await.expect(200);
    let logo_tag = r#"<img class="sp-logo" src="https://brand.salon.example/img/logo.png?v=2&#38;x=%221" alt="">"#;
    assert!(branded.text.contains(logo_tag), "{}", branded.text);
    let branded_csp = branded.headers["content-security-policy"].to_str().unwrap();
    assert_eq!(
        branded_csp,
        csp.replace(
            "img-src 'self' data:;",
            "img-src 'self' data: https://brand.salon.example;"
        )
    );
    assert_eq!(
        branded
            .headers
            .get_all("content-security-policy")
            .iter()
            .count(),
        1
    );
    // The merchant's brand colour reaches the checkout's view (the widget themes with it).
    let view = app.get(&format!("/v1/checkouts/{token}")).await.expect(200);
    assert_eq!(view.json.get("brand_color"), None);
    app.patch(
        &format!("/v1/admin/merchants/{}", m.id),
        json!({"brand_color": "#2F6F5E"}),
    )
    .await
    .expect(200);
    let view = app.get(&format!("/v1/checkouts/{token}")).await.expect(200);
    assert_eq!(view.json["brand_color"], "#2f6f5e");
    // Paid: a clear page instead of the widget, in the merchant's language.
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k").await.expect(200);
    let paid = app.get(&format!("/pay/{token}")).await.expect(200);
    assert!(paid.text.contains(logo_tag), "{}", paid.text);
    assert_eq!(paid.headers["content-security-policy"], branded_csp);
    assert!(
        paid.text.contains("Payé, merci") && paid.text.contains("•••• 4242"),
        "{}",
        paid.text
    );
    assert!(!paid.text.contains("<slotpay-checkout"));

    // www/: served with no-cache, wasm as application/wasm, HTML with the CSP.
    let www = app.config.www_dir.clone();
    std::fs::create_dir_all(www.join("pkg")).unwrap();
    std::fs::write(
        www.join("slotpay.js"),
        "var a='__SLOTPAY_STRIPE_JS__',b=\"__SLOTPAY_STRIPE_JS__\";",
    )
    .unwrap();
    std::fs::write(www.join("pkg/slotpay_widget_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::create_dir_all(www.join("demo")).unwrap();
    std::fs::write(
        www.join("demo/index.html"),
        "<!doctype html><title>demo</title>",
    )
    .unwrap();
    let js = app.get("/slotpay.js").await.expect(200);
    assert_eq!(js.headers["cache-control"], "no-cache");
    assert_eq!(js.headers["access-control-allow-origin"], "*");
    // The loader carries this server's Stripe.js URL, so a page starts Stripe.js at once.
    let stripe_js = serde_json::to_string(app.config.stripe_js_url.as_str()).unwrap();
    assert_eq!(js.text, format!("var a={stripe_js},b={stripe_js};"));
    assert!(js.headers["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    let gzipped = app
        .request(
            Method::GET,
            "/slotpay.js",
            None,
            &[("accept-encoding", "gzip, br")],
        )
        .await
        .expect(200);
    assert_eq!(gzipped.headers["content-encoding"], "gzip");
    let wasm = app.get("/pkg/slotpay_widget_bg.wasm").await.expect(200);
    assert_eq!(wasm.headers["content-type"], "application/wasm");
    assert!(!wasm.headers.contains_key("content-encoding"));
    // The build's compressed copy, to a browser that accepts it (and only then).
    std::fs::write(www.join("pkg/slotpay_widget_bg.wasm.br"), "brotli copy").unwrap();
    let br = app
        .request(
            Method::GET,
            "/pkg/slotpay_widget_bg.wasm",
            None,
            &[("accept-encoding", "gzip, deflate, br")],
        )
        .await
        .expect(200);
    assert_eq!(br.headers["content-encoding"], "br");
    assert_eq!(br.headers["content-type"], "application/wasm");
    assert_eq!(br.text, "brotli copy");
    let plain = app.get("/pkg/slotpay_widget_bg.wasm").await.expect(200);
    assert_eq!(plain.text.as_bytes(), b"\0asm\x01\0\0\0");
    // The widget's words, one language at a time, core's table in core's order.
    let french = app.get("/words/fr.json").await.expect(200);
    assert_eq!(french.headers["access-control-allow-origin"], "*");
    assert_eq!(french.headers["cache-control"], "no-cache");
    assert_eq!(
        french.json,
        serde_json::to_value(slotpay_core::words::language(slotpay_core::Locale::Fr)).unwrap()
    );
    assert_eq!(french.json["texts"][0], "Paiement sécurisé");
    let gzipped = app
        .request(
            Method::GET,
            "/words/de.json",
            None,
            &[("accept-encoding", "gzip")],
        )
        .await
        .expect(200);
    assert_eq!(gzipped.headers["content-encoding"], "gzip");
    for unknown in [
        "/words/it.json",
        "/words/fr",
        "/words/FR.json",
        "/words/fr.json.br",
    ] {
        app.get(unknown).await.expect_error(404, "not_found", None);
    }
    let demo = app.get("/demo/").await.expect(200);
    assert!(demo.headers.contains_key("content-security-policy"));
    app.get("/nope.js")
        .await
        .expect_error(404, "not_found", None);
    app.request(Method::POST, "/v1/nope", Some(json!({})), &[])
        .await
        .expect_error(404, "not_found", None);
}

/// `q` finds a text in the client's email or the booking reference, in any case, its `%`
/// and `_` meaning themselves; `status=taken` and `status=unpaid` split money taken from the
/// rest, in the list, the report and the admin table (whose totals count money taken only).
async fn checkouts_are_searched_and_grouped(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let make = |email: &str, booking: &str| {
        json!({"amount": 3000, "currency": "eur", "description": "x",
               "customer_email": email, "booking_ref": booking})
    };
    let paid = app
        .checkout(&m.id, make("Lea.Martin@example.com", "BK_100%"))
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&paid, &pm, "k").await.expect(200);
    let open = app
        .checkout(&m.id, make("paul@example.com", "BK-200"))
        .await;
    let other = app.checkout(&m.id, make("zoe@example.org", "BKX100")).await;
    let list = format!("/v1/admin/merchants/{}/checkouts", m.id);
    let tokens = |r: &crate::helpers::Resp| -> Vec<String> {
        let mut t: Vec<String> = r.json["data"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.text))
            .iter()
            .map(|c| c["token"].as_str().unwrap().to_owned())
            .collect();
        t.sort();
        t
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<String>>()
    };
    for (q, want) in [
        ("LEA@example", vec![&paid]),
        ("example.com", vec![&paid, &open]),
        ("bk_100%25", vec![&paid]),
        ("100", vec![&paid, &other]),
        ("_", vec![&paid]),
        ("nobody", vec![]),
    ] {
        let r = app.get(&format!("{list}?q={q}")).await.expect(200);
        assert_eq!(tokens(&r), sorted(want), "q={q}");
    }
    let taken = app.get(&format!("{list}?status=taken")).await.expect(200);
    assert_eq!(tokens(&taken), vec![paid.clone()]);
    let unpaid = app.get(&format!("{list}?status=unpaid")).await.expect(200);
    assert_eq!(tokens(&unpaid), sorted(vec![&open, &other]));
    let report = app
        .get(&format!(
            "/v1/admin/merchants/{}/payments?status=unpaid&q=paul",
            m.id
        ))
        .await
        .expect(200);
    assert_eq!(
        report.json["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        report.text
    );
    app.get(&format!("{list}?q={}", "x".repeat(201)))
        .await
        .expect_error(400, "invalid_request", Some("q"));
}
