//! Merchants through the platform API (their checkout's look among their fields), and the
//! admin token.

use serde_json::{json, Value};

use crate::helpers::{both_backends, TestApp};

both_backends!(
    merchants_crud,
    admin_token_required,
    appearance_reaches_checkout_and_link_page
);

async fn merchants_crud(app: TestApp) {
    let created = app
        .post(
            "/v1/admin/merchants",
            json!({"name": "  Salon Léa ", "allowed_origins": ["https://Salon.Example/", "http://localhost:3000"], "locale": "fr-FR"}),
        )
        .await
        .expect(201);
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("mer_") && id.len() == 28, "{id}");
    assert_eq!(created.json["name"], "Salon Léa");
    assert_eq!(
        created.json["allowed_origins"],
        json!(["https://salon.example", "http://localhost:3000"])
    );
    assert_eq!(created.json["locale"], "fr");
    assert_eq!(created.json["time_zone"], "UTC", "UTC until one is chosen");
    assert_eq!(created.json["logo_url"], Value::Null);

    // Each invalid field is named; nothing is created.
    app.post(
        "/v1/admin/merchants",
        json!({"name": "X", "allowed_origins": ["https://ok.example", "salon.example"]}),
    )
    .await
    .expect_error(400, "invalid_origin", Some("allowed_origins[1]"));
    app.post(
        "/v1/admin/merchants",
        json!({"name": "X", "allowed_origins": ["https://a.example/path"]}),
    )
    .await
    .expect_error(400, "invalid_origin", Some("allowed_origins[0]"));
    app.post("/v1/admin/merchants", json!({"name": " "}))
        .await
        .expect_error(400, "invalid_request", Some("name"));
    app.post("/v1/admin/merchants", json!({"name": "X", "locale": "it"}))
        .await
        .expect_error(400, "invalid_request", Some("locale"));
    for zone in ["Paris", "Europe/Atlantis", "UTC+2", ""] {
        app.post(
            "/v1/admin/merchants",
            json!({"name": "X", "time_zone": zone}),
        )
        .await
        .expect_error(400, "invalid_request", Some("time_zone"));
    }
    for logo in ["http://salon.example/l.png", "javascript:alert(1)", "l.png"] {
        app.post(
            "/v1/admin/merchants",
            json!({"name": "X", "logo_url": logo}),
        )
        .await
        .expect_error(400, "invalid_request", Some("logo_url"));
    }
    app.post("/v1/admin/merchants", json!({"name": "X", "colour": "red"}))
        .await
        .expect_error(400, "invalid_json", None);
    let list = app.get("/v1/admin/merchants").await.expect(200);
    assert_eq!(list.json["data"].as_array().unwrap().len(), 1);

    let path = format!("/v1/admin/merchants/{id}");
    assert_eq!(app.get(&path).await.expect(200).json["id"], id.as_str());
    let edited = app
        .patch(&path, json!({"allowed_origins": ["https://new.example"]}))
        .await
        .expect(200);
    assert_eq!(
        edited.json["allowed_origins"],
        json!(["https://new.example"])
    );
    let edited = app
        .patch(
            &path,
            json!({"time_zone": "america/new_york", "logo_url": "https://salon.example/logo.png"}),
        )
        .await
        .expect(200);
    assert_eq!(edited.json["time_zone"], "America/New_York");
    assert_eq!(edited.json["logo_url"], "https://salon.example/logo.png");
    assert_eq!(
        edited.json["allowed_origins"],
        json!(["https://new.example"]),
        "kept"
    );
    let cleared = app.patch(&path, json!({"logo_url": ""})).await.expect(200);
    assert_eq!(cleared.json["logo_url"], Value::Null);
    // A brand colour: #rrggbb, stored in lowercase, "" removes it; nothing else is a colour.
    assert_eq!(cleared.json["brand_color"], Value::Null, "none until set");
    for bad in [
        "blue",
        "#12345",
        "#1234567",
        "#12345g",
        "1234ab",
        "#123456;x",
    ] {
        app.patch(&path, json!({"brand_color": bad}))
            .await
            .expect_error(400, "invalid_request", Some("brand_color"));
    }
    let branded = app
        .patch(&path, json!({"brand_color": " #2F6F5E "}))
        .await
        .expect(200);
    assert_eq!(branded.json["brand_color"], "#2f6f5e");
    assert_eq!(
        app.get(&path).await.expect(200).json["brand_color"],
        "#2f6f5e"
    );
    let plain = app
        .patch(&path, json!({"brand_color": ""}))
        .await
        .expect(200);
    assert_eq!(plain.json["brand_color"], Value::Null);
    assert_eq!(cleared.json["time_zone"], "America/New_York");
    assert_eq!(edited.json["name"], "Salon Léa", "fields left out are kept");
    app.patch(&path, json!({"name": ""}))
        .await
        .expect_error(400, "invalid_request", Some("name"));
    assert_eq!(
        app.get(&path).await.json["allowed_origins"],
        json!(["https://new.example"])
    );

    let deleted = app.delete(&path).await.expect(200);
    assert_eq!(deleted.json["deleted"], true);
    app.get(&path).await.expect_error(404, "not_found", None);
    app.delete(&path).await.expect_error(404, "not_found", None);
    app.patch("/v1/admin/merchants/mer_nope", json!({"name": "Y"}))
        .await
        .expect_error(404, "not_found", None);
}

async fn admin_token_required(app: TestApp) {
    use reqwest::Method;
    for headers in [
        vec![("authorization", "")],
        vec![("authorization", "Bearer wrong-token-of-some-length")],
        vec![("authorization", "Basic abc")],
    ] {
        let r = app
            .request(Method::GET, "/v1/admin/merchants", None, &headers)
            .await;
        r.expect_error(401, "unauthorized", None);
    }
    let r = app
        .request(
            Method::POST,
            "/v1/admin/merchants",
            Some(json!({"name": "X"})),
            &[("authorization", "Bearer nope")],
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    assert_eq!(
        app.get("/v1/admin/merchants").await.expect(200).json["data"],
        json!([])
    );
}

/// The body tag of a page.
fn body_tag(html: &str) -> &str {
    let at = html.find("<body").expect("a body");
    &html[at..at + html[at..].find('>').unwrap() + 1]
}

/// Corners, font and light or dark: each from its list or none, shown in the merchant's view,
/// in its checkouts' public view and on their payment-link pages; `""` removes one, anything
/// else is refused naming the field and the choices.
async fn appearance_reaches_checkout_and_link_page(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let path = format!("/v1/admin/merchants/{}", m.id);
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Cut", "link": true}),
        )
        .await;
    let view = format!("/v1/checkouts/{token}");
    let page = format!("/pay/{token}");

    // Nothing chosen: null in the merchant's view, absent from the checkout's, no attributes.
    let plain = app.get(&path).await.expect(200);
    for field in ["corners", "font", "color_scheme"] {
        assert_eq!(plain.json[field], Value::Null, "{field}");
        assert!(
            plain.json.as_object().unwrap().contains_key(field),
            "{field}"
        );
    }
    assert_eq!(
        app.get(&view).await.expect(200).json.get("appearance"),
        None
    );
    let html = app.get(&page).await.expect(200).text;
    assert_eq!(body_tag(&html), "<body>", "{html}");

    // Refused, naming the field and what it accepts; nothing is changed.
    for (field, bad, accepted) in [
        ("corners", "round", "square, small, medium, large"),
        ("corners", "8px", "square, small, medium, large"),
        ("font", "Comic Sans", "system, serif, humanist, geometric"),
        ("font", "serif;", "system, serif, humanist, geometric"),
        ("color_scheme", "auto", "light, dark"),
    ] {
        let e = app.patch(&path, json!({ field: bad })).await.expect_error(
            400,
            "invalid_request",
            Some(field),
        );
        let message = e.json["error"]["message"].as_str().unwrap();
        assert!(message.contains(accepted), "{field}: {message}");
    }
    app.post(
        "/v1/admin/merchants",
        json!({"name": "X", "color_scheme": "night"}),
    )
    .await
    .expect_error(400, "invalid_request", Some("color_scheme"));
    assert_eq!(app.get(&path).await.json["corners"], Value::Null);

    // Chosen (case and spaces aside): read back, and on to the checkout and its page.
    let chosen = app
        .patch(
            &path,
            json!({"corners": "large", "font": " Serif ", "color_scheme": "dark"}),
        )
        .await
        .expect(200);
    assert_eq!(chosen.json["corners"], "large");
    assert_eq!(chosen.json["font"], "serif");
    assert_eq!(chosen.json["color_scheme"], "dark");
    let read = app.get(&path).await.expect(200);
    assert_eq!(
        (
            &read.json["corners"],
            &read.json["font"],
            &read.json["color_scheme"]
        ),
        (&json!("large"), &json!("serif"), &json!("dark"))
    );
    assert_eq!(
        app.get(&view).await.expect(200).json["appearance"],
        json!({"corners": "large", "font": "serif", "scheme": "dark"})
    );
    let html = app.get(&page).await.expect(200).text;
    assert_eq!(
        body_tag(&html),
        r#"<body data-corners="large" data-font="serif" data-scheme="dark">"#
    );
    assert!(!html.contains("style="), "no inline style: {html}");

    // "" removes one choice and keeps the others; leaving a field out keeps it.
    let fewer = app
        .patch(&path, json!({"font": "", "name": "Salon Léa"}))
        .await
        .expect(200);
    assert_eq!(fewer.json["font"], Value::Null);
    assert_eq!(fewer.json["corners"], "large");
    assert_eq!(fewer.json["color_scheme"], "dark");
    assert_eq!(
        app.get(&view).await.expect(200).json["appearance"],
        json!({"corners": "large", "scheme": "dark"})
    );
    let html = app.get(&page).await.expect(200).text;
    assert_eq!(
        body_tag(&html),
        r#"<body data-corners="large" data-scheme="dark">"#
    );

    // A new merchant may choose from the start.
    let made = app
        .post(
            "/v1/admin/merchants",
            json!({"name": "Nuit", "corners": "square", "font": "geometric", "color_scheme": "light"}),
        )
        .await
        .expect(201);
    assert_eq!(
        (
            &made.json["corners"],
            &made.json["font"],
            &made.json["color_scheme"]
        ),
        (&json!("square"), &json!("geometric"), &json!("light"))
    );

    // A closed link's page keeps the merchant's look.
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k").await.expect(200);
    let paid = app.get(&page).await.expect(200).text;
    assert!(paid.contains("sp-closed"), "{paid}");
    assert_eq!(
        body_tag(&paid),
        r#"<body data-corners="large" data-scheme="dark">"#
    );
}
