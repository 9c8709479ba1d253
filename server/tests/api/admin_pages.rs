//! The admin pages through HTTP, as a browser uses them (a cookie, forms, redirects not
//! followed): every POST refused without a session, without or with a wrong CSRF token, or
//! from another origin, with the database unchanged; sign-in with the admin token (a wrong
//! one refused, then throttled) or an operator's password; session expiry and sign-out;
//! the cookie's attributes; the integration flow of the System Guide with each key error
//! next to its field and nothing saved; services, payment links, payments with a refund
//! sent twice acting once and showing in the CSV; the booking platform's webhook endpoints
//! (a signing secret shown once, refused input shown with what was typed, rotate and delete
//! after a confirmation, deliveries listed and sent again, a payment's page showing what the
//! platform was sent); user input escaped; no secret in any page (every body goes through
//! the suite's secret scan, but for the pages that show a signing secret on purpose).

use reqwest::header::{HeaderMap, HeaderValue, COOKIE, LOCATION, ORIGIN, REFERER, SET_COOKIE};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::{both_backends, into_resp, register_secret, Resp, TestApp};
use crate::receiver::Receiver;

both_backends!(
    posts_without_a_session_change_nothing,
    posts_without_the_csrf_token_change_nothing,
    sign_in_with_the_admin_token,
    operator_password_sign_in,
    session_expiry_and_sign_out,
    integration_pages_follow_the_system_guide,
    services_links_and_payments,
    user_input_is_escaped,
    json_api_adds_an_integration_the_same_way,
    a_new_admin_token_ends_the_sessions_of_the_old_one,
    parallel_wrong_sign_ins_are_counted_before_they_are_checked,
    webhook_endpoints_are_managed_on_the_pages,
    deliveries_show_on_the_endpoint_and_payment_pages,
    a_shared_stripe_account_is_named,
    the_merchants_list_shows_integration_and_volume,
    times_and_amounts_are_the_merchants,
    the_checkouts_look_is_chosen_on_the_merchant_form,
    the_logo_is_uploaded_and_removed_on_the_merchant_page,
);

/// A browser: one session cookie, no redirects followed, the server's own `Origin` on
/// posts unless told otherwise.
pub(crate) struct Browser {
    app: TestApp,
    client: reqwest::Client,
    cookie: Option<String>,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            app: app.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    fn remember(&mut self, r: &Resp) {
        for v in r.headers.get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            assert_eq!(name, "slotpay_admin");
            self.cookie = (!value.is_empty()).then(|| value.to_owned());
        }
    }

    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(c) = &self.cookie {
            h.insert(
                COOKIE,
                HeaderValue::from_str(&format!("other=1; slotpay_admin={c}")).unwrap(),
            );
        }
        h
    }

    pub(crate) async fn get(&mut self, path: &str) -> Resp {
        let r = self
            .client
            .get(format!("{}{path}", self.app.url))
            .headers(self.headers())
            .send()
            .await
            .unwrap();
        let r = into_resp(r).await;
        self.remember(&r);
        r
    }

    /// Posts a form with this origin.
    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let origin = self.app.url.clone();
        self.post_with(path, form, &[(ORIGIN.as_str(), &origin)])
            .await
    }

    async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .client
            .post(format!("{}{path}", self.app.url))
            .headers(self.headers())
            .form(form);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let r = into_resp(req.send().await.unwrap()).await;
        self.remember(&r);
        r
    }

    /// Posts a `multipart/form-data` form with this origin, as a browser sends a form with a
    /// file input: its text `fields`, then each of `files` (field name, file name, type, bytes).
    async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Resp {
        const BOUNDARY: &str = "----slotpayTestBoundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, file_name, content_type, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                     filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let r = self
            .client
            .post(format!("{}{path}", self.app.url))
            .headers(self.headers())
            .header(ORIGIN, self.app.url.as_str())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        let r = into_resp(r).await;
        self.remember(&r);
        r
    }

    /// Posts a form with this origin and reads the answer without the suite's secret scan:
    /// only for the pages that show a signing secret on purpose.
    async fn post_unscanned(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.app.url))
            .headers(self.headers())
            .header(ORIGIN, self.app.url.as_str())
            .form(form)
            .send()
            .await
            .unwrap();
        assert!(r.headers().get(SET_COOKIE).is_none());
        (r.status(), r.text().await.unwrap())
    }

    /// Gets `page` and posts `form` to `path` with the page's CSRF token.
    async fn submit(&mut self, page: &str, path: &str, form: &[(&str, &str)]) -> Resp {
        let token = csrf(&self.get(page).await.expect(200).text);
        let mut fields = vec![("csrf_token", token.as_str())];
        fields.extend_from_slice(form);
        self.post(path, &fields).await
    }

    /// Signs in with the admin token.
    pub(crate) async fn sign_in(app: &TestApp) -> Browser {
        let mut b = Browser::new(app);
        let token = app.admin_token.clone();
        let r = b
            .post(
                "/admin/sign-in",
                &[
                    ("method", "token"),
                    ("token", &token),
                    ("next", "/admin/merchants"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        assert!(b.cookie.is_some());
        b
    }
}

/// Where a redirect goes.
fn location(r: &Resp) -> &str {
    r.headers
        .get(LOCATION)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_else(|| panic!("no Location ({}): {}", r.status, r.text))
}

/// The CSRF token of a page's forms.
fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF token in {html}"));
    let rest = &html[at + "name=\"csrf_token\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The value of a hidden field.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"));
    let rest = &html[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// A money action's confirmation step: asserts `r` is one, acted on nothing yet, and says
/// each of `says`; then posts its form (its hidden fields, CSRF token included) as the
/// confirm button does.
async fn confirm(b: &mut Browser, r: &Resp, says: &[&str]) -> Resp {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for s in says {
        assert!(r.text.contains(s), "{s:?} not in {}", r.text);
    }
    let card = r
        .text
        .find("card card-warning")
        .unwrap_or_else(|| panic!("not a confirmation: {}", r.text));
    let form = &r.text[card..];
    let form = &form[..form.find("</form>").unwrap()];
    let action = {
        let at = form.find("action=\"").unwrap() + "action=\"".len();
        form[at..at + form[at..].find('"').unwrap()].to_owned()
    };
    let mut fields = Vec::new();
    for input in form.split("<input type=\"hidden\" ").skip(1) {
        let name = &input[input.find("name=\"").unwrap() + 6..];
        let name = &name[..name.find('"').unwrap()];
        fields.push((name.to_owned(), hidden(input, name)));
    }
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    b.post(&action.replace("&#x2F;", "/"), &pairs).await
}

/// Follows a redirect and returns the page (its flash messages shown once).
async fn follow(b: &mut Browser, r: &Resp) -> Resp {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let to = location(r).to_owned();
    b.get(&to).await
}

/// What a refused POST must not change: the rows of every table the pages write.
async fn snapshot(app: &TestApp) -> String {
    let pool = app.state.db.pool();
    let mut out = String::new();
    for (table, cols, order) in [
        ("merchants", "id, name, allowed_origins, locale, updated_at", "id"),
        (
            "integrations",
            "merchant_id, name, mode, active, status, last_verified_at, version, updated_at, secret_key_enc",
            "merchant_id",
        ),
        ("services", "id, name, price_amount, active, updated_at", "id"),
        (
            "checkouts",
            "token, status, expires_at, amount_captured, amount_refunded, version, updated_at",
            "token",
        ),
        ("refunds", "id, amount, status", "id"),
        ("merchant_logos", "merchant_id, media_type, sha256, created_at", "merchant_id"),
        ("cancellation_fees", "id, amount, status", "id"),
        ("operators", "name, password_hash, updated_at", "name"),
        ("admin_sessions", "id_hash, expires_at", "id_hash"),
        (
            "webhook_endpoints",
            "id, url, description, events, disabled, secret_enc, previous_secret_enc, updated_at",
            "id",
        ),
        (
            "event_deliveries",
            "id, status, attempts, next_attempt_at, updated_at",
            "id",
        ),
    ] {
        let rows = sqlx::query(&format!("SELECT {cols} FROM {table} ORDER BY {order}"))
            .fetch_all(pool)
            .await
            .unwrap();
        out.push_str(&format!("{table}: {}\n", rows.len()));
        for row in rows {
            for i in 0..row.len() {
                let cell = row
                    .try_get::<Option<String>, _>(i)
                    .map(|v| v.unwrap_or_default())
                    .or_else(|_| row.try_get::<Option<i64>, _>(i).map(|v| format!("{v:?}")))
                    .or_else(|_| row.try_get::<Option<bool>, _>(i).map(|v| format!("{v:?}")))
                    .unwrap();
                out.push_str(&cell);
                out.push('|');
            }
            out.push('\n');
        }
    }
    out
}

/// A merchant taking payments, a service with a cancellation fee, a payment link, a paid
/// checkout and a paid checkout whose card is saved; a webhook endpoint added after the
/// payment, and the event of the payment.
struct World {
    merchant: String,
    service: String,
    link: String,
    paid: String,
    endpoint: String,
    event: String,
}

async fn world(app: &TestApp) -> World {
    let m = app.pay_merchant(None).await;
    let s = app
        .post(
            &format!("/v1/admin/merchants/{}/services", m.id),
            json!({"name": "Colour", "price": "120.00", "currency": "eur",
                   "prepayment": {"type": "fixed", "amount": 2000}, "cancellation_fee": "15.00"}),
        )
        .await
        .expect(201);
    let link = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "eur", "description": "Colour", "link": true}),
        )
        .await;
    let paid = app
        .checkout(
            &m.id,
            json!({"amount": 5000, "currency": "eur", "description": "Cut"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&paid, &pm, "pay-1").await.expect(200);
    app.settle_webhooks().await;
    crate::logos::upload(app, &m.id, "image/png", crate::logos::png())
        .await
        .expect(200);
    let receiver = Receiver::start().await;
    let endpoint = app
        .post(
            "/v1/admin/webhook-endpoints",
            json!({"url": receiver.url, "merchant_id": m.id}),
        )
        .await
        .expect(201);
    register_secret(endpoint.json["secret"].as_str().unwrap());
    let events = app
        .get(&format!("/v1/admin/events?checkout={paid}"))
        .await
        .expect(200);
    World {
        merchant: m.id,
        service: s.json["id"].as_str().unwrap().to_owned(),
        link,
        paid,
        endpoint: endpoint.json["id"].as_str().unwrap().to_owned(),
        event: events.json["data"][0]["id"].as_str().unwrap().to_owned(),
    }
}

/// Every POST of the admin pages with a plausible form (without the CSRF token).
fn all_posts(w: &World, app: &TestApp) -> Vec<(String, Vec<(&'static str, String)>)> {
    let m = &w.merchant;
    let s = &w.service;
    let e = &w.endpoint;
    let keys = |name: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("provider", "stripe".into()),
            ("name", name.into()),
            ("publishable_key", app.sandbox.publishable_key.clone()),
            ("secret_key", app.sandbox.secret_key.clone()),
            ("mode", "off".into()),
            ("card_brands", "visa".into()),
            ("active", "on".into()),
        ]
    };
    let service = vec![
        ("name", "Renamed".to_owned()),
        ("price", "99.00".into()),
        ("currency", "EUR".into()),
        ("prepayment", "full".into()),
        ("active", "on".into()),
    ];
    vec![
        (
            "/admin/merchants".into(),
            vec![("name", "New".into()), ("locale", "en".into())],
        ),
        (
            format!("/admin/merchants/{m}"),
            vec![("name", "Renamed".into()), ("locale", "fr".into())],
        ),
        (format!("/admin/merchants/{m}/delete"), vec![]),
        (format!("/admin/merchants/{m}/logo"), vec![]),
        (format!("/admin/merchants/{m}/logo/delete"), vec![]),
        (format!("/admin/merchants/{m}/integrations"), keys("Second")),
        (format!("/admin/merchants/{m}/integration"), keys("Renamed")),
        (format!("/admin/merchants/{m}/integration/verify"), vec![]),
        (format!("/admin/merchants/{m}/integration/activate"), vec![]),
        (
            format!("/admin/merchants/{m}/integration/deactivate"),
            vec![],
        ),
        (format!("/admin/merchants/{m}/integration/delete"), vec![]),
        (format!("/admin/merchants/{m}/services"), service.clone()),
        (format!("/admin/merchants/{m}/services/{s}"), service),
        (format!("/admin/merchants/{m}/services/{s}/delete"), vec![]),
        (
            format!("/admin/merchants/{m}/links"),
            vec![
                ("description", "New link".into()),
                ("amount", "10.00".into()),
                ("currency", "EUR".into()),
                ("expires_in_days", "7".into()),
            ],
        ),
        (
            format!("/admin/checkouts/{}/refund", w.paid),
            vec![
                ("refund_amount", "1.00".into()),
                ("refund_key", "nonce-1".into()),
            ],
        ),
        (format!("/admin/checkouts/{}/capture", w.paid), vec![]),
        (format!("/admin/checkouts/{}/cancel", w.link), vec![]),
        (format!("/admin/checkouts/{}/resend", w.link), vec![]),
        (
            format!("/admin/checkouts/{}/cancellation-fee", w.paid),
            vec![("fee_amount", "1.00".into()), ("fee_key", "nonce-2".into())],
        ),
        (
            "/admin/webhooks".into(),
            vec![
                ("url", "https://book.example/hooks".into()),
                ("events", "checkout.paid".into()),
            ],
        ),
        (
            format!("/admin/webhooks/{e}"),
            vec![
                ("url", "https://book.example/other".into()),
                ("description", "Renamed".into()),
            ],
        ),
        (format!("/admin/webhooks/{e}/disable"), vec![]),
        (format!("/admin/webhooks/{e}/enable"), vec![]),
        (format!("/admin/webhooks/{e}/rotate-secret"), vec![]),
        (format!("/admin/webhooks/{e}/reveal-secret"), vec![]),
        (format!("/admin/webhooks/{e}/delete"), vec![]),
        (format!("/admin/events/{}/resend", w.event), vec![]),
        ("/admin/sign-out".into(), vec![]),
    ]
}

fn as_refs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn posts_without_a_session_change_nothing(app: TestApp) {
    let w = world(&app).await;
    let before = snapshot(&app).await;
    let mut anonymous = Browser::new(&app);
    for (path, form) in all_posts(&w, &app) {
        let mut fields = as_refs(&form);
        fields.push(("csrf_token", "guess"));
        let r = anonymous.post(&path, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.text);
        assert_eq!(location(&r), "/admin/sign-in", "{path}");
        assert!(r.headers.get(SET_COOKIE).is_none(), "{path}");
    }
    // A stale or made-up cookie is no session either.
    anonymous.cookie = Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into());
    for (path, form) in all_posts(&w, &app) {
        let r = anonymous.post(&path, &as_refs(&form)).await;
        assert_eq!(location(&r), "/admin/sign-in", "{path}");
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "a POST without a session changed something"
    );

    // Pages redirect to sign-in, remembering where they were going.
    anonymous.cookie = None;
    for page in [
        "/admin/merchants".to_owned(),
        format!("/admin/merchants/{}/integration", w.merchant),
        format!("/admin/checkouts/{}", w.paid),
        format!("/admin/merchants/{}/payments.csv", w.merchant),
        "/admin/webhooks".to_owned(),
        format!("/admin/webhooks/{}", w.endpoint),
    ] {
        let r = anonymous.get(&page).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        let to = location(&r);
        assert!(
            to.starts_with("/admin/sign-in?next=%2Fadmin%2F"),
            "{page}: {to}"
        );
    }
    let r = anonymous.get("/admin/sign-in").await.expect(200);
    assert!(r.text.contains("Sign in to slotpay admin"));
}

async fn posts_without_the_csrf_token_change_nothing(app: TestApp) {
    let w = world(&app).await;
    let mut b = Browser::sign_in(&app).await;
    let good = csrf(&b.get("/admin/merchants").await.expect(200).text);
    let before = snapshot(&app).await;
    let wrong = format!("{}x", &good[..good.len() - 1]);
    for (path, form) in all_posts(&w, &app) {
        let fields = as_refs(&form);
        let r = b.post(&path, &fields).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{path} without a token: {}",
            r.text
        );
        assert!(r.text.contains("csrf_token_invalid"), "{path}");
        let mut with_wrong = fields.clone();
        with_wrong.push(("csrf_token", &wrong));
        let r = b.post(&path, &with_wrong).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} with a wrong token");
        assert!(r.text.contains("csrf_token_invalid"), "{path}");
        // The right token from another site's page: refused by origin, then by referrer.
        let mut with_good = fields.clone();
        with_good.push(("csrf_token", &good));
        let r = b
            .post_with(&path, &with_good, &[("origin", "https://evil.example")])
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{path} from another origin"
        );
        assert!(r.text.contains("forbidden_origin"), "{path}");
        let r = b.post_with(&path, &with_good, &[("origin", "null")]).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{path} from an opaque origin"
        );
        let r = b
            .post_with(
                &path,
                &with_good,
                &[(REFERER.as_str(), "https://evil.example/admin/merchants")],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{path} referred by another site"
        );
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "a POST without the right CSRF token changed something"
    );
    // The same session and token still work (nothing was spent), with a same-origin
    // Referer and no Origin too.
    let r = b
        .post_with(
            &format!("/admin/merchants/{}", w.merchant),
            &[("csrf_token", &good), ("name", "Renamed"), ("locale", "en")],
            &[(REFERER.as_str(), &format!("{}/admin/merchants", app.url))],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = follow(&mut b, &r).await.expect(200);
    assert!(page.text.contains("Merchant updated"), "{}", page.text);
}

async fn sign_in_with_the_admin_token(app: TestApp) {
    let wrong = "not-the-admin-token-but-long-enough";
    register_secret(wrong);
    let mut b = Browser::new(&app);
    for _ in 0..5 {
        let r = b
            .post("/admin/sign-in", &[("method", "token"), ("token", wrong)])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert!(r.headers.get(SET_COOKIE).is_none());
        assert!(r.text.contains("This is not the admin token."));
        assert!(r
            .text
            .contains("aria-describedby=\"f-token-hint f-token-error\""));
        assert!(!r.text.contains(wrong), "the typed token is not echoed");
    }
    assert!(b.cookie.is_none());
    // The sixth try is refused whatever it holds, the right token included.
    let token = app.admin_token.clone();
    let r = b
        .post("/admin/sign-in", &[("method", "token"), ("token", &token)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(r.headers.get("retry-after").is_some());
    assert!(r.text.contains("Too many failed sign-ins"));
    assert!(b.cookie.is_none());
    let logs = crate::helpers::captured_logs();
    assert!(logs.contains("admin sign-in failed"));
    assert!(logs.contains("admin sign-in refused: too many failed attempts"));

    // Another client (a new throttle: the window is per address and this test has one, so
    // use a fresh server state's throttle by forgetting the failures) signs in.
    app.state
        .sign_in_throttle
        .succeeded(&["ip:127.0.0.1".to_owned()]);
    let mut b = Browser::sign_in(&app).await;
    let r = b.get("/admin/merchants").await.expect(200);
    assert!(r.text.contains("Signed in as admin (token)"));
    // A signed-in visit to the sign-in page goes on.
    let r = b.get("/admin/sign-in?next=/admin/merchants").await;
    assert_eq!(location(&r), "/admin/merchants");
    // `next` cannot leave the admin pages.
    let mut c = Browser::new(&app);
    let r = c
        .post(
            "/admin/sign-in",
            &[
                ("method", "token"),
                ("token", &token),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/merchants");
}

async fn operator_password_sign_in(app: TestApp) {
    let password = "correct horse battery staple";
    register_secret(password);
    use slotpay_server::admin::operators;
    assert!(
        operators::set_password(&app.state, "alice", SecretString::from(password.to_owned()))
            .await
            .unwrap()
    );
    assert!(
        operators::set_password(&app.state, "bob", SecretString::from("short".to_owned()))
            .await
            .is_err()
    );
    let stored: String = sqlx::query("SELECT password_hash FROM operators WHERE name = $1")
        .bind("alice")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
        .get(0);
    assert!(stored.starts_with("$argon2id$v=19$"), "{stored}");
    assert!(!stored.contains(password));

    let mut b = Browser::new(&app);
    for (name, pw) in [("alice", "wrong password here"), ("nobody", password)] {
        let r = b
            .post(
                "/admin/sign-in",
                &[("method", "operator"), ("operator", name), ("password", pw)],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert!(r
            .text
            .contains("The operator name or the password is wrong."));
        assert!(
            r.text.contains(&format!("value=\"{name}\"")),
            "the name is kept"
        );
        assert!(!r.text.contains(pw), "the password is not echoed");
    }
    let r = b
        .post(
            "/admin/sign-in",
            &[
                ("method", "operator"),
                ("operator", "alice"),
                ("password", password),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = b.get("/admin/merchants").await.expect(200);
    assert!(r.text.contains("Signed in as alice"));
    let operator: Option<String> = sqlx::query("SELECT operator FROM admin_sessions")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(operator.as_deref(), Some("alice"));

    // A new password ends alice's sessions.
    operators::set_password(
        &app.state,
        "alice",
        SecretString::from("another long password".to_owned()),
    )
    .await
    .unwrap();
    let r = b.get("/admin/merchants").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/admin/sign-in"));
}

async fn session_expiry_and_sign_out(app: TestApp) {
    let mut b = Browser::sign_in(&app).await;
    let cookie = b.cookie.clone().unwrap();
    // Stored as its SHA-256 only.
    let rows = sqlx::query("SELECT id_hash FROM admin_sessions")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let id_hash: String = rows[0].get(0);
    assert_eq!(id_hash.len(), 64);
    assert_ne!(id_hash, cookie);
    assert_eq!(cookie.len(), 43, "256 random bits");

    b.get("/admin/merchants").await.expect(200);
    sqlx::query("UPDATE admin_sessions SET expires_at = $1")
        .bind(slotpay_server::db::now() - 1)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let r = b.get("/admin/merchants").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "an expired session is no session"
    );
    assert!(location(&r).starts_with("/admin/sign-in"));

    let mut b = Browser::sign_in(&app).await;
    let r = b.submit("/admin/merchants", "/admin/sign-out", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(location(&r), "/admin/sign-in?signed_out=1");
    let set = r.headers.get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(
        set.starts_with("slotpay_admin=;") && set.contains("Max-Age=0"),
        "{set}"
    );
    assert!(b.cookie.is_none());
    let page = b.get("/admin/sign-in?signed_out=1").await.expect(200);
    assert!(page.text.contains("You are signed out."));
    let left = sqlx::query("SELECT id_hash FROM admin_sessions WHERE expires_at > $1")
        .bind(slotpay_server::db::now())
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    assert!(left.is_empty(), "sign-out deleted the session");
}

/// The session cookie's attributes; `Secure` when the public URL is HTTPS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_attributes() {
    for (public, secure) in [(None, false), (Some("https://pay.example"), true)] {
        let app = crate::helpers::spawn_app(
            crate::helpers::Backend::Sqlite,
            Box::new(move |c| {
                c.public_url = public.map(|u| url::Url::parse(u).unwrap());
            }),
        )
        .await
        .unwrap();
        let mut b = Browser::new(&app);
        let token = app.admin_token.clone();
        let origin = match public {
            Some(u) => u.to_owned(),
            None => app.url.clone(),
        };
        // The origin check uses the public URL, not the address reached.
        let r = b
            .post_with(
                "/admin/sign-in",
                &[("method", "token"), ("token", &token)],
                &[("origin", &app.url)],
            )
            .await;
        assert_eq!(
            r.status == StatusCode::FORBIDDEN,
            public.is_some(),
            "{}",
            r.text
        );
        let r = b
            .post_with(
                "/admin/sign-in",
                &[("method", "token"), ("token", &token)],
                &[("origin", &origin)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        let set = r.headers.get(SET_COOKIE).unwrap().to_str().unwrap();
        for attr in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/admin",
            "Max-Age=43200",
        ] {
            assert!(set.contains(attr), "{attr} in {set}");
        }
        assert_eq!(set.contains("Secure"), secure, "{set}");
        let page = b.get("/admin/merchants").await.expect(200);
        for (h, want) in [
            ("cache-control", "no-store"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "same-origin"),
        ] {
            assert_eq!(page.headers.get(h).unwrap(), want, "{h}");
        }
        let csp = page
            .headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(!page.text.contains("<script>") && !page.text.contains(" style="));
        app.teardown().await;
    }
}

/// The error shown for a form field: its message, the summary's code, the input marked.
fn assert_field_error(r: &Resp, field: &str, code: &str) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text
            .contains(&format!("data-code=\"{code}\"><a href=\"#f-{field}\">")),
        "{code} at {field} in the summary: {}",
        r.text
    );
    assert!(
        r.text.contains(&format!("id=\"f-{field}-error\"")),
        "{field}'s error: {}",
        r.text
    );
    if field != "mode" {
        let input = &r.text[r.text.find(&format!("id=\"f-{field}\"")).unwrap()..];
        let input = &input[..input.find('>').unwrap()];
        assert!(input.contains("aria-invalid=\"true\""), "{input}");
        assert!(input.contains(&format!("f-{field}-error")), "{input}");
    }
}

async fn integration_pages_follow_the_system_guide(app: TestApp) {
    let mut b = Browser::sign_in(&app).await;
    let r = b
        .submit(
            "/admin/merchants/new",
            "/admin/merchants",
            &[
                ("name", "Salon Lumière"),
                ("allowed_origins", "https://salon.example"),
                ("locale", "fr"),
            ],
        )
        .await;
    let m = location(&r).rsplit('/').next().unwrap().to_owned();
    let list = format!("/admin/merchants/{m}/integrations");
    let new = format!("/admin/merchants/{m}/integrations/new");
    let page = b.get(&list).await.expect(200);
    assert!(page.text.contains("No integration yet") && page.text.contains("Add integration"));
    let form = b.get(&new).await.expect(200);
    assert!(
        form.text.contains("Save integration")
            && form.text.contains(&format!("href=\"{list}\">Cancel"))
    );
    // Ways to pay: card always (sent by a hidden field), the others to choose, wallets on.
    for text in [
        "<input type=\"hidden\" name=\"payment_methods\" value=\"card\">",
        "name=\"payment_methods\" value=\"ideal\" aria-describedby",
        "name=\"payment_methods\" value=\"sepa_debit\" aria-describedby",
        "id=\"f-wallets\" name=\"wallets\" type=\"checkbox\" value=\"on\" checked",
    ] {
        assert!(form.text.contains(text), "{text} in {}", form.text);
    }

    let pk = app.sandbox.publishable_key.clone();
    let sk = app.sandbox.secret_key.clone();
    let live_pk = format!("pk_live_{}", &pk["pk_test_".len()..]);
    let unknown = format!("sk_test_{}", "Zz9".repeat(10));
    let spaced = format!("sk_test_{} {}", &sk[8..20], &sk[20..]);
    let short = "sk_test_x".to_owned();
    let cases: Vec<(&str, &str, &str, &str, &str)> = vec![
        (
            &pk,
            &pk,
            "sandbox",
            "secret_key",
            "publishable_key_in_secret_field",
        ),
        (
            &sk,
            &sk,
            "sandbox",
            "publishable_key",
            "secret_key_in_publishable_field",
        ),
        (
            &pk,
            &spaced,
            "sandbox",
            "secret_key",
            "key_contains_whitespace",
        ),
        (&live_pk, &sk, "sandbox", "secret_key", "mixed_key_modes"),
        (&pk, &sk, "live", "mode", "key_mode_mismatch"),
        (&pk, &short, "sandbox", "secret_key", "invalid_secret_key"),
        (
            &pk,
            "xk_test_abcdefghij",
            "sandbox",
            "secret_key",
            "unknown_key_prefix",
        ),
        (&pk, "", "sandbox", "secret_key", "invalid_secret_key"),
        // Well formed, but Stripe does not know it: the System Guide's invalid key.
        (&pk, &unknown, "sandbox", "secret_key", "invalid_secret_key"),
    ];
    let before = snapshot(&app).await;
    for (publishable, secret, mode, field, code) in cases {
        let r = b
            .submit(
                &new,
                &list,
                &[
                    ("provider", "stripe"),
                    ("name", "Stripe"),
                    ("publishable_key", publishable),
                    ("secret_key", secret),
                    ("mode", mode),
                    ("card_brands", "visa"),
                    ("card_brands", "amex"),
                    ("activate", "on"),
                ],
            )
            .await;
        assert_field_error(&r, field, code);
        let input = &r.text[r.text.find("id=\"f-secret_key\"").unwrap()..];
        let input = &input[..input.find('>').unwrap()];
        assert!(
            !input.contains("value="),
            "{code}: the secret is not sent back: {input}"
        );
        if secret != publishable && !secret.is_empty() {
            assert!(
                !r.text.contains(secret),
                "{code}: the secret is not sent back"
            );
        }
        if field != "publishable_key" {
            assert!(
                r.text.contains(&format!("value=\"{publishable}\"")),
                "{code}: kept"
            );
        }
        assert!(
            r.text.contains("value=\"amex\" checked"),
            "{code}: brands kept"
        );
        assert!(!r.text.contains("value=\"jcb\" checked"));
    }
    assert_eq!(snapshot(&app).await, before, "nothing added");
    assert!(app.state.db.get_integration(&m).await.unwrap().is_none());

    // Cancel: a link back to the list; nothing added.
    let page = b.get(&list).await.expect(200);
    assert!(page.text.contains("No integration yet"));

    // Keys pasted with spaces: saved trimmed, and the page says so. Activated at once.
    let r = b
        .submit(
            &new,
            &list,
            &[
                ("provider", "stripe"),
                ("name", "Stripe Lumière"),
                ("publishable_key", &format!(" {pk}\t")),
                ("secret_key", &format!("  {sk}  ")),
                ("mode", "sandbox"),
                ("card_brands", "visa"),
                ("card_brands", "mastercard"),
                ("payment_methods", "card"),
                ("payment_methods", "ideal"),
                ("wallets", "on"),
                ("activate", "on"),
            ],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/merchants/{m}/integration"));
    let details = follow(&mut b, &r).await.expect(200);
    for text in [
        "Integration added",
        "Integration activated",
        "Surrounding spaces were removed from the secret key",
        "Surrounding spaces were removed from the publishable key",
        "data-status=\"Active\"",
        "Registered through Stripe&#39;s API by slotpay",
        &format!("/v1/webhooks/stripe/{m}"),
        "Visa, Mastercard",
        "Card, iDEAL; Apple Pay and Google Pay with cards",
        // Activation registered the origin's domain for the wallets.
        "<code>salon.example</code>: Apple Pay active, Google Pay active, Link active",
    ] {
        assert!(details.text.contains(text), "{text} in {}", details.text);
    }
    assert!(details
        .text
        .contains(&format!("{}...{}", &sk[..8], &sk[sk.len() - 4..])));
    let stored = app.state.db.get_integration(&m).await.unwrap().unwrap();
    assert_eq!(stored.publishable_key.as_str(), pk, "saved trimmed");
    assert!(stored.active);
    // Shown once.
    let again = b.get(&format!("/admin/merchants/{m}/integration")).await;
    assert!(!again.text.contains("Integration added"));

    // Adding a second one is refused; the list has one line with its toggle.
    let r = b
        .submit(
            &new,
            &list,
            &[
                ("provider", "stripe"),
                ("name", "Two"),
                ("publishable_key", &pk),
                ("secret_key", &sk),
                ("mode", "sandbox"),
                ("card_brands", "visa"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("already has a Stripe integration"));
    let page = b.get(&list).await.expect(200);
    assert!(page.text.contains("Stripe Lumière") && page.text.contains(">Deactivate<"));
    assert!(!page.text.contains(">Add integration<"));

    // Deactivate and activate from the list, each confirmed.
    let r = b
        .submit(
            &list,
            &format!("/admin/merchants/{m}/integration/deactivate"),
            &[("back", &list)],
        )
        .await;
    assert_eq!(location(&r), list);
    let page = follow(&mut b, &r).await;
    assert!(page.text.contains("Integration deactivated") && page.text.contains(">Activate<"));
    assert!(
        !app.state
            .db
            .get_integration(&m)
            .await
            .unwrap()
            .unwrap()
            .active
    );
    let r = b
        .submit(
            &list,
            &format!("/admin/merchants/{m}/integration/activate"),
            &[("back", &list)],
        )
        .await;
    let page = follow(&mut b, &r).await;
    assert!(page.text.contains("Integration activated"), "{}", page.text);

    // Edit with the key fields empty: the keys stay; the name changes.
    let edit = format!("/admin/merchants/{m}/integration/edit");
    let form = b.get(&edit).await.expect(200);
    assert!(form.text.contains("Leave empty to keep the stored key"));
    assert!(!form.text.contains(&sk));
    let enc_before = stored.secret_key_enc.clone();
    let r = b
        .submit(
            &edit,
            &format!("/admin/merchants/{m}/integration"),
            &[
                ("provider", "stripe"),
                ("name", "Stripe (main)"),
                ("publishable_key", ""),
                ("secret_key", ""),
                ("mode", "sandbox"),
                ("card_brands", "visa"),
                ("active", "on"),
            ],
        )
        .await;
    let page = follow(&mut b, &r).await.expect(200);
    assert!(page.text.contains("Integration updated"), "{}", page.text);
    let after = app.state.db.get_integration(&m).await.unwrap().unwrap();
    assert_eq!(after.name, "Stripe (main)");
    assert_eq!(after.secret_key_enc, enc_before, "the stored key is kept");
    assert!(after.active && after.status.as_str() == "active");
    // An edit with a key error saves nothing and keeps the typed name.
    let before = snapshot(&app).await;
    let r = b
        .submit(
            &edit,
            &format!("/admin/merchants/{m}/integration"),
            &[
                ("provider", "stripe"),
                ("name", "Typed"),
                ("secret_key", &pk),
                ("mode", "sandbox"),
                ("card_brands", "visa"),
                ("active", "on"),
            ],
        )
        .await;
    assert_field_error(&r, "secret_key", "publishable_key_in_secret_field");
    assert!(r.text.contains("value=\"Typed\""));
    assert_eq!(snapshot(&app).await, before);

    // Revoked in the sandbox, "Verify now" shows Error with Stripe's reason.
    app.sandbox.revoke_key(&sk).unwrap();
    let r = b
        .submit(
            &format!("/admin/merchants/{m}/integration"),
            &format!("/admin/merchants/{m}/integration/verify"),
            &[],
        )
        .await;
    let page = follow(&mut b, &r).await.expect(200);
    assert!(page.text.contains("Verification failed"), "{}", page.text);
    assert!(page.text.contains("data-status=\"Error\""));
    assert!(page.text.contains("api_key_expired"));

    // Delete: the confirmation page, its cancel, then the deletion.
    let confirm = b
        .get(&format!("/admin/merchants/{m}/integration/delete"))
        .await
        .expect(200);
    assert!(confirm
        .text
        .contains("Are you sure you want to delete the integration"));
    assert!(confirm
        .text
        .contains(&format!("href=\"/admin/merchants/{m}/integration\">Cancel")));
    assert!(
        app.state.db.get_integration(&m).await.unwrap().is_some(),
        "asking deletes nothing"
    );
    let r = b
        .submit(
            &format!("/admin/merchants/{m}/integration/delete"),
            &format!("/admin/merchants/{m}/integration/delete"),
            &[],
        )
        .await;
    assert_eq!(location(&r), list);
    let page = follow(&mut b, &r).await.expect(200);
    assert!(page.text.contains("Integration deleted"));
    assert!(app.state.db.get_integration(&m).await.unwrap().is_none());
    assert!(
        app.state.db.get_merchant(&m).await.unwrap().is_some(),
        "the merchant stays"
    );
}

async fn services_links_and_payments(app: TestApp) {
    let w = world(&app).await;
    let m = w.merchant.clone();
    let mut b = Browser::sign_in(&app).await;

    // A service below the minimum is refused with core's message, at the rule.
    let services = format!("/admin/merchants/{m}/services");
    let new = format!("{services}/new");
    let before = snapshot(&app).await;
    let r = b
        .submit(
            &new,
            &services,
            &[
                ("name", "Nail"),
                ("price", "4.00"),
                ("currency", "usd"),
                ("prepayment", "percent"),
                ("percent", "10"),
                ("active", "on"),
            ],
        )
        .await;
    assert_field_error(&r, "percent", "amount_too_small");
    assert!(r
        .text
        .contains("The prepayment, 0.40 USD, is below Stripe&#39;s minimum of 0.50 USD"));
    assert_eq!(snapshot(&app).await, before);
    let r = b
        .submit(
            &new,
            &services,
            &[
                ("name", "Haircut"),
                ("price", "45.00"),
                ("currency", "EUR"),
                ("prepayment", "fixed"),
                ("deposit", "12.50"),
                ("cancellation_fee", "10"),
                ("active", "on"),
            ],
        )
        .await;
    let page = follow(&mut b, &r).await.expect(200);
    assert!(page.text.contains("Service Haircut added"));
    assert!(page.text.contains("Deposit of €12.50"), "{}", page.text);
    let list = app
        .get(&format!("/v1/admin/merchants/{m}/services"))
        .await
        .expect(200);
    let haircut = list.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Haircut")
        .unwrap()
        .clone();
    assert_eq!(
        haircut["prepayment"],
        json!({"type": "fixed", "amount": 1250})
    );
    let sid = haircut["id"].as_str().unwrap();
    let edit = format!("{services}/{sid}/edit");
    let form = b.get(&edit).await.expect(200);
    assert!(form.text.contains("value=\"12.50\"") && form.text.contains("value=\"45.00\""));
    let r = b
        .submit(
            &edit,
            &format!("{services}/{sid}"),
            &[
                ("name", "Haircut"),
                ("price", "50.00"),
                ("currency", "EUR"),
                ("prepayment", "full"),
                ("cancellation_fee", ""),
            ],
        )
        .await;
    follow(&mut b, &r).await.expect(200);
    let s = app
        .get(&format!("/v1/admin/merchants/{m}/services/{sid}"))
        .await
        .expect(200);
    assert_eq!(s.json["price"]["amount"], 5000);
    assert!(s.json["cancellation_fee"].is_null() && s.json["active"] == false);
    let r = b
        .submit(
            &format!("{services}/{sid}/delete"),
            &format!("{services}/{sid}/delete"),
            &[],
        )
        .await;
    let page = follow(&mut b, &r).await.expect(200);
    assert!(page.text.contains("Service Haircut deleted"));

    // Payment links: create (amount and description), see, resend, cancel.
    let links = format!("/admin/merchants/{m}/links");
    let r = b
        .submit(
            &format!("{links}/new"),
            &links,
            &[
                ("description", "Balayage"),
                ("amount", "0.49"),
                ("currency", "EUR"),
                ("expires_in_days", "7"),
            ],
        )
        .await;
    assert_field_error(&r, "amount", "amount_too_small");
    let r = b
        .submit(
            &format!("{links}/new"),
            &links,
            &[
                ("description", "Balayage"),
                ("amount", "80.00"),
                ("currency", "EUR"),
                ("expires_in_days", "3"),
                ("customer_email", "lea@example.com"),
                ("booking_ref", "BK-77"),
            ],
        )
        .await;
    let page = follow(&mut b, &r).await.expect(200);
    assert!(
        page.text
            .contains("Client: lea@example.com · Booking reference: BK-77"),
        "the link's card shows what was entered: {}",
        page.text
    );
    assert!(
        page.text.contains("Payment link created for €80.00"),
        "{}",
        page.text
    );
    let token = page.text[page.text.find("/pay/cs_").unwrap() + 5..]
        .split(['"', '<', ' '])
        .next()
        .unwrap()
        .to_owned();
    assert!(page
        .text
        .contains(&format!("value=\"{}/pay/{token}\" readonly", app.url)));
    assert!(page.text.contains("data-copy=\"url-"), "a copy button");
    let expires = app.stored(&token).await.expires_at.unwrap();
    assert!((expires - slotpay_server::db::now() - 3 * 86_400).abs() < 60);
    let r = b
        .submit(
            &links,
            &format!("/admin/checkouts/{token}/resend"),
            &[("back", &links)],
        )
        .await;
    let page = follow(&mut b, &r).await;
    assert!(page.text.contains("Payment link renewed"));
    let resent = app.stored(&token).await.expires_at.unwrap();
    assert!(
        (resent - slotpay_server::db::now() - 7 * 86_400).abs() < 60,
        "a new expiry"
    );
    // A link for a service: its prepayment.
    let r = b
        .submit(
            &format!("{links}/new"),
            &links,
            &[
                ("service_id", &w.service),
                ("currency", "EUR"),
                ("expires_in_days", "7"),
            ],
        )
        .await;
    let page = follow(&mut b, &r).await;
    assert!(
        page.text.contains("Payment link created for €20.00"),
        "{}",
        page.text
    );
    let r = b
        .submit(
            &links,
            &format!("/admin/checkouts/{token}/cancel"),
            &[("back", &links)],
        )
        .await;
    assert_eq!(
        app.stored(&token).await.status.as_str(),
        "open",
        "not before confirming"
    );
    let asking = "asking €80.00".to_owned();
    let r = confirm(
        &mut b,
        &r,
        &["Cancel this payment link?", &asking, "can no longer pay"],
    )
    .await;
    assert_eq!(location(&r), links, "back where the cancel started");
    let page = follow(&mut b, &r).await;
    assert!(page.text.contains("Payment link canceled"));
    assert!(
        page.text.contains(&format!("id=\"link-{token}\""))
            && !page.text.contains(&format!("id=\"url-{token}\"")),
        "a canceled link is listed with nothing to copy: {}",
        page.text
    );
    assert_eq!(app.stored(&token).await.status.as_str(), "canceled");

    // Payments: the table, the filters, the detail page, a partial refund (confirmed first,
    // with a reason) sent twice.
    let payments = format!("/admin/merchants/{m}/payments");
    let table = b.get(&payments).await.expect(200);
    assert!(table.text.contains(&format!("/admin/checkouts/{}", w.paid)));
    let paid_only = b.get(&format!("{payments}?status=paid")).await.expect(200);
    assert!(paid_only.text.contains(&w.paid) && !paid_only.text.contains(&token));
    let bad = b.get(&format!("{payments}?from=yesterday")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("id=\"f-from-error\""));
    let today = reqwest_date(slotpay_server::db::now());
    let until_today = b
        .get(&format!("{payments}?from={today}&to={today}"))
        .await
        .expect(200);
    assert!(until_today.text.contains(&w.paid), "until is inclusive");

    let detail = format!("/admin/checkouts/{}", w.paid);
    let page = b.get(&detail).await.expect(200);
    let pi = app.stored(&w.paid).await.payment_intent_id.unwrap();
    assert!(page.text.contains(&pi));
    assert!(page.text.contains("Remaining refundable: €50.00"));
    // Its ids open Stripe's Dashboard in the integration's mode (Sandbox: test data).
    let unescaped = page.text.replace("&#x2f;", "/").replace("&#x2F;", "/");
    assert!(
        unescaped.contains(&format!(
            "href=\"https://dashboard.stripe.com/test/payments/{pi}\""
        )),
        "{unescaped}"
    );
    let nonce = hidden(&page.text, "refund_key");
    let token_csrf = csrf(&page.text);
    let form = [
        ("csrf_token", token_csrf.as_str()),
        ("refund_key", nonce.as_str()),
        ("refund_amount", "12.50"),
        ("refund_reason", "duplicate"),
    ];
    let asked = b.post(&format!("{detail}/refund"), &form).await;
    assert_eq!(
        app.stored(&w.paid).await.amount_refunded,
        0,
        "not before confirming"
    );
    let says = [
        "Refund €12.50?",
        "€37.50 stays refundable",
        "Reason sent to Stripe: Duplicate payment",
    ];
    let first = confirm(&mut b, &asked, &says).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text);
    let second = confirm(&mut b, &asked, &says).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.text);
    let stored = app.stored(&w.paid).await;
    assert_eq!(stored.amount_refunded, 1250, "a double submit refunds once");
    let at_stripe = app
        .stripe_get(
            &app.sandbox.secret_key,
            &format!("/v1/refunds?payment_intent={pi}"),
        )
        .await;
    assert_eq!(at_stripe["data"][0]["reason"], "duplicate", "{at_stripe}");
    let page = b.get(&detail).await.expect(200);
    assert!(page.text.contains("Refund of €12.50"), "{}", page.text);
    assert!(page.text.contains("Remaining refundable: €37.50"));
    assert_ne!(
        hidden(&page.text, "refund_key"),
        nonce,
        "a new form, a new nonce"
    );
    // An unknown reason is refused at its field before anything is asked.
    let r = b
        .submit(
            &detail,
            &format!("{detail}/refund"),
            &[("refund_key", "odd"), ("refund_reason", "bored")],
        )
        .await;
    assert_field_error(&r, "refund_reason", "invalid_request");
    // More than remains: refused at the amount, nothing refunded.
    let r = b
        .submit(
            &detail,
            &format!("{detail}/refund"),
            &[("refund_key", "other"), ("refund_amount", "40.00")],
        )
        .await;
    assert_field_error(&r, "refund_amount", "refund_exceeds_remaining");
    assert!(r.text.contains("Only 37.50 EUR remains refundable"));
    assert_eq!(app.stored(&w.paid).await.amount_refunded, 1250);
    app.settle_webhooks().await;

    // Money taken apart from the rest, with totals that count it alone (the API's view of
    // the same rows gives the expected net).
    let taken = b.get(&format!("{payments}?status=taken")).await.expect(200);
    assert!(
        taken
            .text
            .contains(&format!("/admin/checkouts/{}\"", w.paid))
            && !taken.text.contains(&format!("/admin/checkouts/{token}\"")),
        "the canceled link is not money taken"
    );
    let api = app
        .get(&format!("/v1/admin/merchants/{m}/checkouts?status=taken"))
        .await
        .expect(200);
    let net: i64 = api.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["amount_captured"].as_i64().unwrap()
                - c["amount_refunded"].as_i64().unwrap()
                - c["stripe_fee"].as_i64().unwrap_or(0)
        })
        .sum();
    let shown = format!("data-net=\"eur\">€{}.{:02}</strong>", net / 100, net % 100);
    assert!(taken.text.contains(&shown), "{shown} not in {}", taken.text);

    // The CSV report has the refund.
    let csv = b
        .get(&format!("/admin/merchants/{m}/payments.csv"))
        .await
        .expect(200);
    assert_eq!(
        csv.headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(csv
        .headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let mut lines = csv.text.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "refunded").unwrap();
    let line = lines.find(|l| l.contains(&w.paid)).unwrap();
    assert_eq!(line.split(',').nth(col), Some("12.50"), "{line}");

    // An authorisation: captured in part from its page; another canceled.
    let auth = app
        .checkout(
            &m,
            json!({"amount": 3000, "currency": "eur", "description": "Hold", "capture": true}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&auth, &pm, "pay-auth").await.expect(200);
    let page = format!("/admin/checkouts/{auth}");
    let r = b
        .submit(
            &page,
            &format!("{page}/capture"),
            &[("capture_amount", "20.00")],
        )
        .await;
    let shown = follow(&mut b, &r).await;
    assert!(
        shown.text.contains("Payment captured: €20.00"),
        "{}",
        shown.text
    );
    let auth2 = app
        .checkout(
            &m,
            json!({"amount": 3000, "currency": "eur", "description": "Hold 2", "capture": true}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&auth2, &pm, "pay-auth2").await.expect(200);
    let page = format!("/admin/checkouts/{auth2}");
    let r = b.submit(&page, &format!("{page}/cancel"), &[]).await;
    let r = confirm(
        &mut b,
        &r,
        &["Cancel the authorisation?", "Release the €30.00 held"],
    )
    .await;
    let shown = follow(&mut b, &r).await;
    assert!(
        shown.text.contains("Authorisation canceled"),
        "{}",
        shown.text
    );
    assert_eq!(app.stored(&auth2).await.status.as_str(), "canceled");

    // A cancellation fee on a saved card.
    let saved = app
        .checkout(
            &m,
            json!({"service_id": w.service, "description": "Colour"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay_at(None, &saved, &pm, "pay-saved", true)
        .await
        .expect(200);
    let page = format!("/admin/checkouts/{saved}");
    let shown = b.get(&page).await.expect(200);
    assert!(
        shown.text.contains("value=\"15.00\""),
        "the offered fee prefilled"
    );
    let fee_key = hidden(&shown.text, "fee_key");
    let r = b
        .submit(
            &page,
            &format!("{page}/cancellation-fee"),
            &[("fee_key", &fee_key), ("fee_amount", "15.00")],
        )
        .await;
    let shown = follow(&mut b, &r).await;
    assert!(
        shown.text.contains("Cancellation fee of €15.00"),
        "{}",
        shown.text
    );

    // Every page, one last time through the secret scan (into_resp checks each body).
    for page in [
        "/admin/merchants".to_owned(),
        format!("/admin/merchants/{m}"),
        format!("/admin/merchants/{m}/edit"),
        format!("/admin/merchants/{m}/integrations"),
        format!("/admin/merchants/{m}/integration"),
        format!("/admin/merchants/{m}/integration/edit"),
        format!("/admin/merchants/{m}/integrations/new"),
        services.clone(),
        links.clone(),
        payments.clone(),
        detail.clone(),
        format!("/admin/checkouts/{saved}"),
        format!("/admin/merchants/{m}/delete"),
    ] {
        let r = b.get(&page).await.expect(200);
        assert!(r.text.contains("</html>"), "{page}");
    }
}

/// `2026-11-21` of unix seconds.
fn reqwest_date(secs: i64) -> String {
    slotpay_server::domain::reports::iso8601(secs)[..10].to_owned()
}

async fn user_input_is_escaped(app: TestApp) {
    let mut b = Browser::sign_in(&app).await;
    let evil = "<script>alert(1)</script>";
    let r = b
        .submit(
            "/admin/merchants/new",
            "/admin/merchants",
            &[
                ("name", evil),
                ("allowed_origins", "https://salon.example"),
                ("locale", "en"),
            ],
        )
        .await;
    let page = follow(&mut b, &r).await.expect(200);
    let list = b.get("/admin/merchants").await.expect(200);
    for text in [&page.text, &list.text] {
        assert!(!text.contains(evil), "shown unescaped");
        assert!(
            text.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{text}"
        );
    }
    // A refused form shows what was typed, escaped too.
    let r = b
        .submit(
            "/admin/merchants/new",
            "/admin/merchants",
            &[
                ("name", "\"><img src=x onerror=alert(1)>"),
                ("allowed_origins", "javascript:alert(1)"),
            ],
        )
        .await;
    assert_field_error(&r, "allowed_origins", "invalid_origin");
    assert!(!r.text.contains("<img src=x"));
    assert!(r.text.contains("Origin on line 1"));
}

/// `slotpay operator set-password` reads the password from standard input (never an
/// argument), stores an Argon2id hash, and the server then signs the operator in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_cli_sets_a_password_the_server_accepts() {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let password = "a long cli password 42";
    register_secret(password);
    let slotpay = || {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_slotpay"));
        cmd.current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SLOTPAY_DATA_DIR", dir.path().join("data"))
            .kill_on_drop(true);
        cmd
    };
    let run = |args: &'static [&'static str], input: &'static str| {
        let mut cmd = slotpay();
        async move {
            let mut child = cmd
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .await
                .unwrap();
            let out = child.wait_with_output().await.unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            crate::helpers::assert_no_secret(&text, "the CLI's output");
            (out.status.success(), text)
        }
    };
    let (ok, text) = run(&["operator", "set-password", "alice"], "short\n").await;
    assert!(!ok && text.contains("12 to 1024 characters"), "{text}");
    let (ok, text) = run(
        &["operator", "set-password", "alice"],
        "a long cli password 42\n",
    )
    .await;
    assert!(ok && text.contains("operator added: alice"), "{text}");
    let (ok, text) = run(&["operator", "list"], "").await;
    assert!(ok && text.starts_with("alice\t"), "{text}");

    let mut server = slotpay()
        .arg("serve")
        .env("SLOTPAY_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("addr=").nth(1) {
                if line.contains("slotpay listening") {
                    return rest.split_whitespace().next().unwrap().to_owned();
                }
            }
        }
        panic!("the server stopped");
    })
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let sign_in = |pw: &'static str| {
        client
            .post(format!("http://{addr}/admin/sign-in"))
            .form(&[
                ("method", "operator"),
                ("operator", "alice"),
                ("password", pw),
            ])
            .send()
    };
    let wrong = sign_in("not the password at all").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = sign_in("a long cli password 42").await.unwrap();
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    assert!(right.headers().get(SET_COOKIE).is_some());
    server.kill().await.unwrap();
    let (ok, text) = run(&["operator", "remove", "alice"], "").await;
    assert!(ok && text.contains("operator removed: alice"), "{text}");
}

/// `POST /v1/admin/merchants/{id}/integration` is the pages' "Save integration": the same
/// domain function (verified at once, a key Stripe refuses not added, one per merchant).
async fn json_api_adds_an_integration_the_same_way(app: TestApp) {
    let m = app.merchant(&[]).await;
    let path = format!("/v1/admin/merchants/{m}/integration");
    let unknown = format!("sk_test_{}", "Zz9".repeat(10));
    let r = app
        .post(
            &path,
            json!({"publishable_key": app.sandbox.publishable_key, "secret_key": unknown, "mode": "sandbox"}),
        )
        .await;
    r.expect_error(400, "invalid_secret_key", Some("secret_key"));
    app.get(&path).await.expect(404);
    let r = app
        .post(
            &path,
            json!({"publishable_key": app.sandbox.publishable_key, "secret_key": app.sandbox.secret_key, "mode": "sandbox"}),
        )
        .await
        .expect(201);
    assert_eq!(r.json["status"], "active", "verified at once");
    assert_eq!(r.json["active"], false, "activation is its own call");
    let r = app
        .post(
            &path,
            json!({"publishable_key": app.sandbox.publishable_key, "secret_key": app.sandbox.secret_key, "mode": "sandbox"}),
        )
        .await;
    r.expect_error(409, "conflict", None);
}

/// The operator replaced a leaked admin token and restarted: the sessions signed in with
/// the old token end with it (an operator's session is not the token's and stays).
async fn a_new_admin_token_ends_the_sessions_of_the_old_one(app: TestApp) {
    let b = Browser::sign_in(&app).await;
    let mut config = app.config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    let same = slotpay_server::serve(config.clone()).await.unwrap();
    config.admin_token = Some(secrecy::SecretString::from(format!(
        "replaced-admin-token-{}",
        hex::encode(rand::random::<[u8; 16]>())
    )));
    let replaced = slotpay_server::serve(config).await.unwrap();
    let page = |url: String| {
        let (client, headers) = (b.client.clone(), b.headers());
        async move {
            let r = client
                .get(format!("{url}/admin/merchants"))
                .headers(headers)
                .send()
                .await
                .unwrap();
            into_resp(r).await
        }
    };
    let kept = page(same.local_url()).await;
    assert_eq!(kept.status, StatusCode::OK, "same token, same session");
    let ended = page(replaced.local_url()).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER, "{}", ended.text);
    assert!(
        location(&ended).starts_with("/admin/sign-in"),
        "{}",
        location(&ended)
    );
    same.stop().await;
    replaced.stop().await;
}

/// Sixty wrong sign-ins sent at once: each is counted before its password (or token) is
/// checked, so no more than the throttle's limit are ever checked (they all were, as the
/// count came after the slow Argon2 check).
async fn parallel_wrong_sign_ins_are_counted_before_they_are_checked(app: TestApp) {
    let limit = slotpay_server::admin::throttle::MAX_FAILURES as usize;
    for method in ["token", "operator"] {
        let tries = (0..60).map(|i| {
            let app = app.clone();
            async move {
                let mut b = Browser::new(&app);
                // Each from its own client address would be another key: these share one.
                let wrong = format!("wrong-{i}");
                let form = [
                    ("method", method),
                    ("token", wrong.as_str()),
                    ("operator", "nobody"),
                    ("password", wrong.as_str()),
                ];
                b.post("/admin/sign-in", &form).await.status
            }
        });
        let statuses = futures::future::join_all(tries).await;
        let checked = statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert!(checked <= limit, "{method}: {checked} of 60 checked");
        assert_eq!(checked + refused, 60, "{method}: {statuses:?}");
        // The next method starts from a clean slate: the throttle is per address.
        app.state
            .sign_in_throttle
            .succeeded(&["ip:127.0.0.1".to_owned()]);
    }
}

/// The signing secret a page shows in its box.
fn shown_secret(html: &str) -> String {
    let at = html
        .find("id=\"secret-value\"")
        .unwrap_or_else(|| panic!("no signing secret shown: {html}"));
    let rest = &html[at..];
    let rest = &rest[rest.find("value=\"").unwrap() + "value=\"".len()..];
    let secret = rest[..rest.find('"').unwrap()].to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    secret
}

/// The id of the webhook endpoint a page is about (from its edit link).
fn endpoint_id_in(html: &str) -> String {
    let marker = "href=\"/admin/webhooks/we_";
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no endpoint link in {html}"));
    let rest = &html[at + "href=\"/admin/webhooks/".len()..];
    rest[..rest.find(['/', '"']).unwrap()].to_owned()
}

/// The error of the event types' fieldset: in the summary, next to the boxes, described.
fn assert_events_error(r: &Resp, says: &str) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text
            .contains("data-code=\"invalid_request\"><a href=\"#f-events\">"),
        "{}",
        r.text
    );
    assert!(r.text.contains("id=\"f-events-error\""), "{}", r.text);
    assert!(
        r.text
            .contains("id=\"f-events\" aria-describedby=\"f-events-hint f-events-error\""),
        "{}",
        r.text
    );
    assert!(r.text.contains(says), "{says}: {}", r.text);
}

/// Gets `path` until it contains `needle` (deliveries are sent in the background).
async fn page_with(b: &mut Browser, path: &str, needle: &str) -> Resp {
    for _ in 0..200 {
        let r = b.get(path).await.expect(200);
        if r.text.contains(needle) {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let r = b.get(path).await;
    panic!("{path} never showed {needle}: {}", r.text);
}

async fn webhook_endpoints_are_managed_on_the_pages(app: TestApp) {
    let m = app.merchant(&["https://salon.example"]).await;
    let mut b = Browser::sign_in(&app).await;
    let list = b.get("/admin/webhooks").await.expect(200);
    assert!(list.text.contains("No endpoints yet."), "{}", list.text);
    assert!(
        list.text
            .contains("<a href=\"/admin/webhooks\" aria-current=\"page\">Webhooks</a>"),
        "{}",
        list.text
    );
    assert!(
        list.text.contains(&format!("<option value=\"{m}\">")),
        "the merchants to choose from: {}",
        list.text
    );
    let stored = || async {
        app.get("/v1/admin/webhook-endpoints")
            .await
            .expect(200)
            .json["data"]
            .as_array()
            .unwrap()
            .clone()
    };

    // Refused input: the form again with the message at its field and what was typed.
    let typed = "ftp://book.example/hooks";
    let r = b
        .submit(
            "/admin/webhooks",
            "/admin/webhooks",
            &[
                ("url", typed),
                ("merchant_id", &m),
                ("events", "checkout.paid"),
                ("events", "refund.succeeded"),
                ("description", "Bookings"),
            ],
        )
        .await;
    assert_field_error(&r, "url", "invalid_request");
    assert!(
        r.text
            .contains("The url must be an absolute http:// or https:// URL"),
        "{}",
        r.text
    );
    assert!(r.text.contains(&format!("value=\"{typed}\"")), "{}", r.text);
    assert!(r.text.contains("value=\"Bookings\""), "{}", r.text);
    assert!(r.text.contains(&format!("<option value=\"{m}\" selected>")));
    for kept in ["checkout.paid", "refund.succeeded"] {
        assert!(
            r.text.contains(&format!("value=\"{kept}\" checked>")),
            "{kept} still ticked: {}",
            r.text
        );
    }
    assert!(r.text.contains("value=\"checkout.expired\">"));
    assert!(!r.text.contains("id=\"secret-value\""));
    let r = b
        .submit(
            "/admin/webhooks",
            "/admin/webhooks",
            &[
                ("url", "https://book.example/hooks"),
                ("events", "checkout.paid"),
                ("events", "checkout.payed"),
            ],
        )
        .await;
    assert_events_error(&r, "Unknown event types: checkout.payed");
    assert!(r.text.contains("value=\"https://book.example/hooks\""));
    let r = b
        .submit(
            "/admin/webhooks",
            "/admin/webhooks",
            &[
                ("url", "https://book.example/hooks"),
                ("merchant_id", "mer_000000000000000000000000"),
            ],
        )
        .await;
    assert_field_error(&r, "merchant_id", "not_found");
    assert!(stored().await.is_empty(), "nothing added by the refusals");

    // Added: the secret shown once, in its box, on the POST's own answer.
    let receiver = Receiver::start().await;
    let r = b
        .submit(
            "/admin/webhooks",
            "/admin/webhooks",
            &[
                ("url", &receiver.url),
                ("merchant_id", &m),
                ("events", "checkout.paid"),
                ("description", "Bookings"),
            ],
        )
        .await
        .expect(200);
    assert!(r.headers.get(LOCATION).is_none());
    assert!(r.text.contains("Webhook endpoint added"), "{}", r.text);
    assert!(r.text.contains("Copy it now: it will not be shown again."));
    let secret = shown_secret(&r.text);
    assert_eq!(r.text.matches(&secret).count(), 1, "shown once on the page");
    assert!(
        r.headers.get(SET_COOKIE).is_none(),
        "no secret in a flash cookie"
    );
    let id = endpoint_id_in(&r.text);
    assert!(!id.contains(&secret[6..]) && !r.text.contains(&format!("?{secret}")));
    register_secret(&secret);
    receiver.trust(&[&secret]);
    let api = app
        .get(&format!("/v1/admin/webhook-endpoints/{id}"))
        .await
        .expect(200);
    assert_eq!(api.json["url"], receiver.url.as_str());
    assert_eq!(api.json["merchant_id"], m.as_str());
    assert_eq!(api.json["events"], json!(["checkout.paid"]));
    assert_eq!(api.json["description"], "Bookings");
    // Never again on a page (the scan of every answer holds it too from here on).
    let list = b.get("/admin/webhooks").await.expect(200);
    assert!(!list.text.contains(&secret));
    assert!(list.text.contains(&receiver.url), "{}", list.text);
    assert!(list.text.contains("checkout.paid") && list.text.contains("data-endpoint=\"enabled\""));
    let page = b.get(&format!("/admin/webhooks/{id}")).await.expect(200);
    assert!(!page.text.contains(&secret) && !page.text.contains("id=\"secret-value\""));
    assert!(page.text.contains("Nothing sent to this endpoint yet."));

    // Revealed: the current secret, on the POST's answer only.
    let token = csrf(&page.text);
    let (status, shown) = b
        .post_unscanned(
            &format!("/admin/webhooks/{id}/reveal-secret"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown_secret(&shown), secret);
    assert!(shown.contains("once you leave this page"));

    // Rotated after a confirmation that says what happens: a new secret, the old one
    // signing beside it for a day.
    let confirm = b
        .get(&format!("/admin/webhooks/{id}/rotate-secret"))
        .await
        .expect(200);
    assert!(confirm.text.contains("Rotate the signing secret?"));
    assert!(confirm
        .text
        .contains("For 24 hours webhooks are signed with both"));
    assert!(!confirm.text.contains("id=\"secret-value\""));
    let (status, shown) = b
        .post_unscanned(
            &format!("/admin/webhooks/{id}/rotate-secret"),
            &[("csrf_token", &csrf(&confirm.text))],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    let rotated = shown_secret(&shown);
    assert_ne!(rotated, secret);
    assert!(!shown.contains(&secret), "only the new secret");
    assert!(shown.contains("New signing secret") && shown.contains("Signing secret rotated"));
    register_secret(&rotated);
    receiver.trust(&[&secret, &rotated]);
    let page = b.get(&format!("/admin/webhooks/{id}")).await.expect(200);
    assert!(page
        .text
        .contains("Still signs beside the current one until"));

    // Edited: a refused URL shown with what was typed, then saved (no box ticked: all
    // events; an empty note removes it).
    let edit = format!("/admin/webhooks/{id}/edit");
    let form = b.get(&edit).await.expect(200);
    assert!(form.text.contains(&format!("value=\"{}\"", receiver.url)));
    assert!(form.text.contains("value=\"checkout.paid\" checked>"));
    let bad = "https://user:pw@book.example/hooks";
    let r = b
        .submit(
            &edit,
            &format!("/admin/webhooks/{id}"),
            &[
                ("url", bad),
                ("events", "checkout.paid"),
                ("description", "x"),
            ],
        )
        .await;
    assert_field_error(&r, "url", "invalid_request");
    assert!(r.text.contains(&format!("value=\"{bad}\"")), "{}", r.text);
    assert!(r.text.contains("must not carry a user name or password"));
    assert_eq!(
        app.get(&format!("/v1/admin/webhook-endpoints/{id}"))
            .await
            .expect(200)
            .json["description"],
        "Bookings",
        "nothing saved"
    );
    let r = b
        .submit(
            &edit,
            &format!("/admin/webhooks/{id}"),
            &[("url", &receiver.url), ("description", "")],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/webhooks/{id}"));
    let page = follow(&mut b, &r).await.expect(200);
    assert!(page.text.contains("Webhook endpoint updated"));
    assert!(page.text.contains("All events"));
    let api = app
        .get(&format!("/v1/admin/webhook-endpoints/{id}"))
        .await
        .expect(200);
    assert_eq!(api.json["events"], json!([]));
    assert!(api.json["description"].is_null(), "{}", api.text);

    // Disabled and enabled from the list.
    let list = b.get("/admin/webhooks").await.expect(200);
    let r = b
        .post(
            &format!("/admin/webhooks/{id}/disable"),
            &[
                ("csrf_token", &csrf(&list.text)),
                ("back", "/admin/webhooks"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/webhooks");
    let list = follow(&mut b, &r).await.expect(200);
    assert!(list.text.contains("Webhook endpoint disabled"));
    assert!(list.text.contains("data-endpoint=\"disabled\""));
    assert_eq!(
        app.get(&format!("/v1/admin/webhook-endpoints/{id}"))
            .await
            .expect(200)
            .json["disabled"],
        true
    );
    let r = b
        .post(
            &format!("/admin/webhooks/{id}/enable"),
            &[("csrf_token", &csrf(&list.text))],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/webhooks/{id}"));
    let page = follow(&mut b, &r).await.expect(200);
    assert!(page.text.contains("Webhook endpoint enabled"));
    assert!(page.text.contains("data-endpoint=\"enabled\""));

    // Deleted after a confirmation that says what is lost; "Cancel" changes nothing.
    let confirm = b
        .get(&format!("/admin/webhooks/{id}/delete"))
        .await
        .expect(200);
    assert!(confirm.text.contains("Delete webhook endpoint?"));
    assert!(confirm.text.contains("This cannot be undone"));
    assert!(confirm
        .text
        .contains(&format!("href=\"/admin/webhooks/{id}\">Cancel</a>")));
    assert_eq!(stored().await.len(), 1, "not deleted by asking");
    let r = b
        .post(
            &format!("/admin/webhooks/{id}/delete"),
            &[("csrf_token", &csrf(&confirm.text))],
        )
        .await;
    assert_eq!(location(&r), "/admin/webhooks");
    let list = follow(&mut b, &r).await.expect(200);
    assert!(list
        .text
        .contains(&format!("Webhook endpoint {} deleted", receiver.url)));
    assert!(list.text.contains("No endpoints yet."));
    assert!(stored().await.is_empty());
    let gone = b.get(&format!("/admin/webhooks/{id}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.text);
    assert!(gone.text.contains("data-code=\"not_found\""));
    let (status, _) = b
        .post_unscanned(
            &format!("/admin/webhooks/{id}/reveal-secret"),
            &[("csrf_token", &csrf(&list.text))],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn deliveries_show_on_the_endpoint_and_payment_pages(app: TestApp) {
    let mut b = Browser::sign_in(&app).await;
    let receiver = Receiver::start().await;
    let r = b
        .submit(
            "/admin/webhooks",
            "/admin/webhooks",
            &[("url", &receiver.url), ("merchant_id", "")],
        )
        .await
        .expect(200);
    let secret = shown_secret(&r.text);
    register_secret(&secret);
    receiver.trust(&[&secret]);
    let id = endpoint_id_in(&r.text);
    assert!(r.text.contains("All merchants") && r.text.contains("All events"));

    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 4500, "currency": "eur", "description": "Cut"}),
        )
        .await;
    let unpaid = b
        .get(&format!("/admin/checkouts/{token}"))
        .await
        .expect(200);
    assert!(unpaid.text.contains("Sent to the platform"));
    assert!(unpaid
        .text
        .contains("Nothing sent to the booking platform about this payment yet."));
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k1").await.expect(200);
    let got = receiver.wait_for("checkout.paid", 1).await;
    assert_eq!(got[0].verified_with, vec![true]);
    let event = got[0].id.clone();

    // The endpoint's page: the delivery, its status, attempts and answer.
    let here = format!("/admin/webhooks/{id}");
    let page = page_with(&mut b, &here, "data-delivery=\"succeeded\"").await;
    let row = &page.text[page
        .text
        .find(&format!("<tr data-event=\"{event}\">"))
        .unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains(&format!(
            "href=\"/admin/checkouts/{token}\">checkout.paid</a>"
        )),
        "{row}"
    );
    assert!(
        row.contains("<td data-label=\"Attempts\" class=\"num\">1</td>"),
        "{row}"
    );
    assert!(row.contains("HTTP 200"), "{row}");
    assert_eq!(hidden(row, "back"), here);

    // Resend: the same event again, to the platform, and the page says so.
    let r = b
        .post(
            &format!("/admin/events/{event}/resend"),
            &[("csrf_token", &csrf(&page.text)), ("back", &here)],
        )
        .await;
    assert_eq!(location(&r), here);
    let page = follow(&mut b, &r).await.expect(200);
    assert!(
        page.text.contains(&format!(
            "Event {event} (checkout.paid) is being sent again to every enabled endpoint that wants it"
        )),
        "{}",
        page.text
    );
    let again = receiver.wait_for("checkout.paid", 2).await;
    assert_eq!(again[1].id, event, "the same webhook-id");
    assert_eq!(again[1].verified_with, vec![true]);
    page_with(
        &mut b,
        &here,
        "<td data-label=\"Attempts\" class=\"num\">2</td>",
    )
    .await;
    // A resend no endpoint wants is refused with the reason; an unknown event is not found.
    let list = b.get("/admin/webhooks").await.expect(200);
    let r = b
        .post(
            &format!("/admin/webhooks/{id}/disable"),
            &[("csrf_token", &csrf(&list.text))],
        )
        .await;
    follow(&mut b, &r).await.expect(200);
    let r = b
        .post(
            &format!("/admin/events/{event}/resend"),
            &[("csrf_token", &csrf(&list.text)), ("back", &here)],
        )
        .await;
    let page = follow(&mut b, &r).await.expect(200);
    assert!(
        page.text
            .contains("Not sent again: No enabled webhook endpoint wants this event"),
        "{}",
        page.text
    );
    let r = b
        .post(
            "/admin/events/evt_000000000000000000000000/resend",
            &[("csrf_token", &csrf(&list.text))],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // The payment's page: what the platform was sent, each delivery and its last answer.
    let payment = format!("/admin/checkouts/{token}");
    let page = b.get(&payment).await.expect(200);
    let sent = &page.text[page
        .text
        .find("<h2 id=\"sent-title\">Sent to the platform</h2>")
        .unwrap()..];
    let row = &sent[sent.find(&format!("<tr data-event=\"{event}\">")).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("<code>checkout.paid</code>"), "{row}");
    assert!(
        row.contains(&format!(
            "href=\"/admin/webhooks/{id}\">{}</a>",
            receiver.url
        )),
        "{row}"
    );
    assert!(row.contains("data-delivery=\"succeeded\""), "{row}");
    assert!(row.contains("HTTP 200"), "{row}");
    assert_eq!(hidden(row, "back"), payment);
    // An event while no endpoint wants it is listed as not sent; resending it from the
    // payment's page once the endpoint is enabled again sends it.
    app.request(
        reqwest::Method::POST,
        &format!("/v1/admin/checkouts/{token}/refunds"),
        Some(json!({"amount": 1000})),
        &[("idempotency-key", "r1")],
    )
    .await
    .expect(200);
    let page = page_with(&mut b, &payment, "refund.succeeded").await;
    assert!(
        page.text
            .contains("Not sent: no enabled endpoint wanted it"),
        "{}",
        page.text
    );
    let list = b.get("/admin/webhooks").await.expect(200);
    let r = b
        .post(
            &format!("/admin/webhooks/{id}/enable"),
            &[("csrf_token", &csrf(&list.text))],
        )
        .await;
    follow(&mut b, &r).await.expect(200);
    let refund_event = app
        .get(&format!(
            "/v1/admin/events?checkout={token}&type=refund.succeeded"
        ))
        .await
        .expect(200)
        .json["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = b
        .post(
            &format!("/admin/events/{refund_event}/resend"),
            &[("csrf_token", &csrf(&page.text)), ("back", &payment)],
        )
        .await;
    assert_eq!(location(&r), payment);
    follow(&mut b, &r).await.expect(200);
    let told = receiver.wait_for("refund.succeeded", 1).await;
    assert_eq!(told[0].id, refund_event);
    let mut row = String::new();
    for _ in 0..200 {
        let page = b.get(&payment).await.expect(200);
        let at = page
            .text
            .find(&format!("<tr data-event=\"{refund_event}\">"))
            .unwrap();
        row = page.text[at..].to_owned();
        row.truncate(row.find("</tr>").unwrap());
        if row.contains("data-delivery=\"succeeded\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(row.contains("data-delivery=\"succeeded\""), "{row}");
    assert!(!row.contains("Not sent"), "{row}");
}

/// An integration's page names the other merchants connected to the same Stripe account,
/// once there are any.
async fn a_shared_stripe_account_is_named(app: TestApp) {
    let a = app.pay_merchant(None).await;
    let mut b = Browser::sign_in(&app).await;
    let page = |id: &str| format!("/admin/merchants/{id}/integration");
    let alone = b.get(&page(&a.id)).await;
    assert_eq!(alone.status, StatusCode::OK);
    assert!(!alone.text.contains("Shared with"), "{}", alone.text);
    let other = app.pay_merchant(None).await;
    let shared = b.get(&page(&a.id)).await;
    assert!(
        shared.text.contains("Shared with")
            && shared
                .text
                .contains(&format!("href=\"/admin/merchants/{}\"", other.id)),
        "{}",
        shared.text
    );
}

/// The merchants list says what each integration allows and what each merchant took in the
/// last 30 days (captured less refunded, per currency; unpaid checkouts not counted).
async fn the_merchants_list_shows_integration_and_volume(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let bare = app.merchant(&["https://bare.example"]).await;
    for (amount, pay) in [(2500, true), (1200, true), (9900, false)] {
        let token = app
            .checkout(
                &m.id,
                json!({"amount": amount, "currency": "eur", "description": "x"}),
            )
            .await;
        if pay {
            let pm = app.card("4242424242424242").await;
            app.pay(&token, &pm, "k").await.expect(200);
        }
    }
    let mut b = Browser::sign_in(&app).await;
    let list = b.get("/admin/merchants").await;
    assert_eq!(list.status, StatusCode::OK);
    let row = |id: &str| {
        let at = list.text.find(&format!("data-volume=\"{id}\"")).unwrap();
        list.text[at..at + list.text[at..].find("</td>").unwrap()].to_owned()
    };
    assert!(
        row(&m.id).ends_with(">€37.00 (2 payments)"),
        "{}",
        row(&m.id)
    );
    assert!(row(&bare).ends_with(">—"), "{}", row(&bare));
    assert!(list.text.contains("Active: taking payments") && list.text.contains("None yet"));
}

/// A merchant's pages write times in its time zone and amounts as its clients read them;
/// the zone and the logo are set and shown on its own pages, and a bad one is refused there.
async fn times_and_amounts_are_the_merchants(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let mut b = Browser::sign_in(&app).await;
    let edit = format!("/admin/merchants/{}/edit", m.id);
    let form = b.get(&edit).await;
    // Every IANA name is offered as the zone is typed.
    let offered = form.text.replace("&#x2f;", "/");
    assert!(offered.contains(r#"<option value="Europe/Paris">"#));
    assert!(offered.contains(r#"<option value="America/New_York">"#));
    let post = format!("/admin/merchants/{}", m.id);
    let fields = |zone: &'static str, logo: &'static str| {
        vec![
            ("name", "Salon Léa"),
            ("allowed_origins", "https://salon.example"),
            ("locale", "fr"),
            ("time_zone", zone),
            ("logo_url", logo),
        ]
    };
    let r = b.submit(&edit, &post, &fields("Europe/Atlantis", "")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("IANA name"), "{}", r.text);
    let r = b
        .submit(
            &edit,
            &post,
            &fields("Europe/Paris", "http://salon.example/logo.png"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text.contains("The logo must be an https URL"),
        "{}",
        r.text
    );
    let r = b
        .submit(
            &edit,
            &post,
            &fields("europe/paris", "https://salon.example/logo.png"),
        )
        .await;
    let overview = follow(&mut b, &r).await.expect(200);
    let shown = overview.text.replace("&#x2f;", "/");
    assert!(shown.contains("<dd>Europe/Paris</dd>"), "{shown}");
    let stored = app
        .get(&format!("/v1/admin/merchants/{}", m.id))
        .await
        .expect(200);
    assert_eq!(stored.json["time_zone"], "Europe/Paris");
    assert_eq!(stored.json["logo_url"], "https://salon.example/logo.png");

    let token = app
        .checkout(
            &m.id,
            json!({"amount": 123450, "currency": "eur", "description": "x"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k").await.expect(200);
    let created = app.stored(&token).await.created_at;
    let paris = jiff::Timestamp::from_second(created)
        .unwrap()
        .in_tz("Europe/Paris")
        .unwrap()
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string();
    let page = b
        .get(&format!("/admin/checkouts/{token}"))
        .await
        .expect(200);
    assert!(page.text.contains(&paris), "{paris} not in {}", page.text);
    assert!(
        page.text.contains("1\u{202f}234,50\u{a0}€"),
        "{}",
        page.text
    );
    let list = b
        .get(&format!("/admin/merchants/{}/payments", m.id))
        .await
        .expect(200);
    assert!(list.text.contains(&paris), "{paris} not in {}", list.text);
    assert!(!list.text.contains(" UTC<"), "{}", list.text);
}

/// The option of `name`'s select that is chosen, as `value="..."`.
fn chosen(html: &str, name: &str) -> String {
    let at = html
        .find(&format!(
            "<select class=\"input input-short\" id=\"f-{name}\" name=\"{name}\""
        ))
        .unwrap_or_else(|| panic!("no select {name}: {html}"));
    let select = &html[at..at + html[at..].find("</select>").unwrap()];
    let option = select
        .split("<option ")
        .find(|o| o.contains(" selected>"))
        .unwrap_or_else(|| panic!("nothing chosen in {select}"));
    option[..option.find(" selected>").unwrap()].to_owned()
}

/// Corners, font and light or dark are chosen on the merchant's form from labelled lists
/// that start with the checkout's default; the choices reach the API, the overview and the
/// form again, a refused form keeps them (and the brand colour), and the default removes one.
async fn the_checkouts_look_is_chosen_on_the_merchant_form(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let mut b = Browser::sign_in(&app).await;
    let edit = format!("/admin/merchants/{}/edit", m.id);
    let form = b.get(&edit).await.expect(200);
    for (name, label) in [
        ("corners", "Corners"),
        ("font", "Font"),
        ("color_scheme", "Light or dark"),
    ] {
        assert!(
            form.text.contains(&format!(
                "<label class=\"label\" for=\"f-{name}\">{label}</label>"
            )),
            "{name} is labelled: {}",
            form.text
        );
        assert_eq!(chosen(&form.text, name), "value=\"\"", "{name}");
        assert!(form.text.contains(&format!(
            "name=\"{name}\" aria-describedby=\"f-{name}-hint\">\n    <option value=\"\" selected>Checkout default</option>"
        )));
    }
    for value in [
        "square",
        "small",
        "medium",
        "large",
        "system",
        "serif",
        "humanist",
        "geometric",
        "light",
        "dark",
    ] {
        assert!(
            form.text.contains(&format!("<option value=\"{value}\">")),
            "{value} offered"
        );
    }
    let post = format!("/admin/merchants/{}", m.id);
    let fields = |corners: &'static str, font: &'static str, scheme: &'static str| {
        vec![
            ("name", "Salon Léa"),
            ("allowed_origins", "https://salon.example"),
            ("locale", "en"),
            ("time_zone", "UTC"),
            ("logo_url", ""),
            ("brand_color", "#2f6f5e"),
            ("corners", corners),
            ("font", font),
            ("color_scheme", scheme),
        ]
    };
    let r = b
        .submit(&edit, &post, &fields("large", "serif", "dark"))
        .await;
    let overview = follow(&mut b, &r).await.expect(200);
    assert!(
        overview.text.contains("<dt>Corners</dt><dd>large</dd>")
            && overview.text.contains("<dt>Font</dt><dd>serif</dd>")
            && overview
                .text
                .contains("<dt>Light or dark</dt><dd>dark</dd>"),
        "{}",
        overview.text
    );
    let stored = app
        .get(&format!("/v1/admin/merchants/{}", m.id))
        .await
        .expect(200);
    assert_eq!(
        (
            &stored.json["corners"],
            &stored.json["font"],
            &stored.json["color_scheme"]
        ),
        (&json!("large"), &json!("serif"), &json!("dark"))
    );
    let form = b.get(&edit).await.expect(200);
    assert_eq!(chosen(&form.text, "corners"), "value=\"large\"");
    assert_eq!(chosen(&form.text, "font"), "value=\"serif\"");
    assert_eq!(chosen(&form.text, "color_scheme"), "value=\"dark\"");

    // A value no option has (a hand-made post) is refused next to its field; the form
    // comes back with what was chosen, the brand colour too.
    let r = b
        .submit(&edit, &post, &fields("round", "humanist", ""))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text
            .contains("The corners must be one of square, small, medium, large"),
        "{}",
        r.text
    );
    assert!(r.text.contains("id=\"f-corners-error\""), "{}", r.text);
    assert_eq!(chosen(&r.text, "font"), "value=\"humanist\"");
    assert_eq!(chosen(&r.text, "color_scheme"), "value=\"\"");
    assert!(r.text.contains("value=\"#2f6f5e\""), "{}", r.text);
    assert_eq!(
        app.get(&format!("/v1/admin/merchants/{}", m.id)).await.json["font"],
        "serif",
        "nothing saved"
    );

    // The first option, "Checkout default", removes a choice.
    let r = b.submit(&edit, &post, &fields("large", "", "dark")).await;
    follow(&mut b, &r).await.expect(200);
    let stored = app
        .get(&format!("/v1/admin/merchants/{}", m.id))
        .await
        .expect(200);
    assert_eq!(stored.json["font"], Value::Null);
    assert_eq!(stored.json["corners"], "large");
}

/// The merchant's page shows its uploaded logo and a form to upload one (a file input, the
/// CSRF token as on every form), refuses what is not an image next to the input with nothing
/// stored, and removes the logo after a confirmation step.
async fn the_logo_is_uploaded_and_removed_on_the_merchant_page(app: TestApp) {
    let m = app.merchant(&[]).await;
    let mut b = Browser::sign_in(&app).await;
    let overview = format!("/admin/merchants/{m}");
    let upload = format!("/admin/merchants/{m}/logo");
    let page = b.get(&overview).await.expect(200);
    assert!(
        page.text.contains(&format!(
            r#"<form class="form" method="post" action="/admin/merchants/{m}/logo" enctype="multipart/form-data" novalidate>"#
        )),
        "{}",
        page.text
    );
    assert!(
        page.text.contains(
            r#"name="logo" type="file" accept="image/png,image/jpeg,image/webp,image/gif""#
        ),
        "{}",
        page.text
    );
    assert!(page.text.contains("No logo uploaded"), "{}", page.text);
    assert!(!page.text.contains("/logos/"), "{}", page.text);
    let token = csrf(&page.text);
    let png = crate::logos::png();
    let svg: &[u8] = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;

    // Refused, each next to the file input, the page answering 422 and nothing stored.
    for (what, files, says, code) in [
        (
            "an SVG",
            vec![("logo", "logo.svg", "image/svg+xml", svg)],
            "The logo must be a PNG, JPEG, WebP or GIF image",
            "invalid_logo",
        ),
        (
            "a PNG named as an SVG",
            vec![("logo", "logo.svg", "image/svg+xml", png.as_slice())],
            "The file is a PNG image but was sent as image/svg+xml",
            "invalid_logo",
        ),
        (
            "no file chosen",
            vec![("logo", "", "application/octet-stream", &b""[..])],
            "Choose an image file to upload",
            "invalid_logo",
        ),
        (
            "no file input",
            vec![],
            "Choose an image file to upload",
            "invalid_logo",
        ),
    ] {
        let r = b
            .post_multipart(&upload, &[("csrf_token", &token)], &files)
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            r.text
        );
        assert!(r.text.contains(says), "{what}: {}", r.text);
        assert!(
            r.text.contains(&format!("data-code=\"{code}\"")),
            "{what}: {}",
            r.text
        );
        assert!(
            r.text.contains(r#"id="f-logo-error""#),
            "{what}: {}",
            r.text
        );
        assert!(r.text.contains(r#"aria-invalid="true""#), "{what}");
    }
    let mut big = png.clone();
    big.resize(300 * 1024, 0);
    let r = b
        .post_multipart(
            &upload,
            &[("csrf_token", &token)],
            &[("logo", "big.png", "image/png", &big)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text
            .contains("The logo is 300 KiB: at most 256 KiB is accepted"),
        "{}",
        r.text
    );
    // Without the CSRF token, or with a forged one: refused, nothing stored.
    let r = b
        .post_multipart(&upload, &[], &[("logo", "logo.png", "image/png", &png)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("csrf_token_invalid"), "{}", r.text);
    let r = b
        .post_multipart(
            &upload,
            &[("csrf_token", "forged")],
            &[("logo", "logo.png", "image/png", &png)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let stored = app
        .get(&format!("/v1/admin/merchants/{m}"))
        .await
        .expect(200);
    assert_eq!(stored.json["logo_upload"], Value::Null, "nothing stored");

    // Uploaded: the page shows it from this server, and says what it is.
    let r = b
        .post_multipart(
            &upload,
            &[("csrf_token", &token)],
            &[("logo", "logo.png", "image/png", &png)],
        )
        .await;
    let page = follow(&mut b, &r).await.expect(200);
    assert!(page.text.contains("Logo uploaded"), "{}", page.text);
    let stored = app
        .get(&format!("/v1/admin/merchants/{m}"))
        .await
        .expect(200);
    let hash = stored.json["logo_upload"]["sha256"].as_str().unwrap();
    let src = format!("/logos/{m}/{hash}.png");
    assert!(
        page.text.contains(&format!(
            r#"<img class="logo-preview" src="{src}" alt="The logo of Salon Léa">"#
        )),
        "{}",
        page.text
    );
    assert!(page.text.contains("PNG, 1 KiB"), "{}", page.text);
    assert!(page.text.contains("Replace the logo"), "{}", page.text);
    assert_eq!(app.get(&src).await.status, StatusCode::OK);

    // Removed after a confirmation step: its address is gone.
    let remove = format!("/admin/merchants/{m}/logo/delete");
    let confirmation = b.get(&remove).await;
    let r = confirm(
        &mut b,
        &confirmation,
        &["Remove the uploaded logo of Salon Léa?"],
    )
    .await;
    let page = follow(&mut b, &r).await.expect(200);
    assert!(page.text.contains("Logo removed"), "{}", page.text);
    assert!(page.text.contains("No logo uploaded"), "{}", page.text);
    assert_eq!(app.get(&src).await.status, StatusCode::NOT_FOUND);
    // Removing again says there was none.
    let r = b.post(&remove, &[("csrf_token", &token)]).await;
    let page = follow(&mut b, &r).await.expect(200);
    assert!(
        page.text.contains("There was no uploaded logo to remove"),
        "{}",
        page.text
    );
}
