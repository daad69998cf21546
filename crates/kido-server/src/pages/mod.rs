//! The hosted pages: sign-in, registration, logout and errors, rendered on the server and
//! working without JavaScript. Forms call the same domain functions as the Experience
//! API, so there is one implementation of the rules.

mod codes;
mod forms;
mod i18n;

use std::fmt::Write;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kido_core::oidc::logout::{LogoutPrompt, LogoutRequest};
use kido_proto::sign_in_experience::SignInExperience;

pub use i18n::{Lang, Texts};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route("/sign-in", get(forms::sign_in_page).post(forms::sign_in_submit))
        .route("/register", get(forms::register_page).post(forms::register_submit));
    codes::routes(router)
}

/// HTML-escapes text for element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What every page needs: the language and the tenant's look.
pub struct View {
    pub lang: Lang,
    pub sie: SignInExperience,
    pub app_name: Option<String>,
}

impl View {
    pub async fn new(app: &AppState, headers: &HeaderMap, ui_locales: Option<&str>, app_name: Option<String>) -> Self {
        let sie = app.core.sign_in_experiences().get(&app.tenant.context.id).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "sign-in experience unavailable; showing defaults");
            SignInExperience::default_for(app.tenant.context.id.as_str())
        });
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        Self { lang: Lang::pick(ui_locales, accept, &sie), sie, app_name }
    }

    pub fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// The whole document around `body`, with `status`.
    pub fn render(&self, status: StatusCode, title: &str, body: &str) -> Response {
        let b = &self.sie.branding;
        let mut html = String::with_capacity(4096 + body.len());
        let _ = write!(
            html,
            r#"<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>"#,
            lang = self.lang.tag(),
            title = esc(title),
        );
        if let Some(icon) = &b.favicon {
            let _ = write!(html, r#"<link rel="icon" href="{}">"#, esc(icon));
        }
        // Admin-provided CSS cannot close the style element.
        let custom_css = self.sie.custom_css.as_deref().unwrap_or_default().replace('<', "\\3c ");
        let _ = write!(
            html,
            "<style>:root{{--primary:{primary};--primary-dark:{dark}}}{STYLE}{custom_css}</style></head><body><main class=\"card\">",
            primary = esc(&self.sie.color.primary_color),
            dark = esc(&self.sie.color.dark_primary_color),
        );
        match (&b.logo_url, &self.app_name) {
            (Some(logo), name) => {
                let alt = name.as_deref().unwrap_or_default();
                let _ = write!(html, r#"<img class="logo" src="{}" alt="{}">"#, esc(logo), esc(alt));
            }
            (None, Some(name)) => {
                let _ = write!(html, r#"<p class="app">{}</p>"#, esc(name));
            }
            (None, None) => {}
        }
        html.push_str(body);
        html.push_str("</main></body></html>");
        let mut response = (status, html).into_response();
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
        response
    }

    /// A page with a heading and one message.
    pub fn message(&self, status: StatusCode, title: &str, message: &str, alert: bool) -> Response {
        let role = if alert { r#" role="alert""# } else { "" };
        let body = format!(r#"<h1>{}</h1><p class="message"{role}>{}</p>"#, esc(title), esc(message));
        self.render(status, title, &body)
    }
}

/// Kido's error page (for requests that cannot be sent back to the client).
pub async fn error_page(
    app: &AppState,
    headers: &HeaderMap,
    ui_locales: Option<&str>,
    status: StatusCode,
    error: &str,
    description: &str,
) -> Response {
    let view = View::new(app, headers, ui_locales, None).await;
    let t = view.t();
    let lead = if error == "session_not_found" { t.session_lost } else { t.request_invalid };
    let body = format!(
        r#"<h1>{}</h1><p class="message" role="alert">{}</p><p class="detail"><code>{}</code>: {}</p>"#,
        esc(t.error_title),
        esc(lead),
        esc(error),
        esc(description)
    );
    view.render(status, t.error_title, &body)
}

/// The logout confirmation (a form; Kido does not sign users out on a plain GET).
pub async fn logout_page(
    app: &AppState,
    headers: &HeaderMap,
    params: &[(String, String)],
    request: &LogoutRequest,
    prompt: &LogoutPrompt,
) -> Response {
    let ui_locales = params.iter().find(|(k, _)| k == "ui_locales").map(|(_, v)| v.as_str());
    let view = View::new(app, headers, ui_locales, prompt.client_name.clone()).await;
    let t = view.t();
    let mut hidden = String::new();
    let fields = [
        ("xsrf", prompt.xsrf.as_deref()),
        ("client_id", prompt.client_id.as_deref()),
        ("post_logout_redirect_uri", request.post_logout_redirect_uri.as_deref()),
        ("state", request.state.as_deref()),
        ("ui_locales", ui_locales),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            let _ = write!(hidden, r#"<input type="hidden" name="{name}" value="{}">"#, esc(v));
        }
    }
    let body = format!(
        r#"<h1>{title}</h1><p class="message">{question}</p><form id="op.logoutForm" method="post" action="/oidc/session/end/confirm">{hidden}<button type="submit" name="logout" value="yes">{button}</button></form>"#,
        title = esc(t.logout_title),
        question = esc(t.logout_question),
        button = esc(t.logout_button),
    );
    view.render(StatusCode::OK, t.logout_title, &body)
}

pub async fn signed_out_page(app: &AppState, headers: &HeaderMap) -> Response {
    let view = View::new(app, headers, None, None).await;
    let t = view.t();
    view.message(StatusCode::OK, t.logout_title, t.signed_out, false)
}

const STYLE: &str = "*{box-sizing:border-box}body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f5f5f7;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Hiragino Sans','Noto Sans JP','Noto Sans TC',sans-serif;color:#1d1d1f}\
.card{width:100%;max-width:420px;margin:16px;padding:32px 28px;background:#fff;border-radius:16px;box-shadow:0 4px 24px rgba(0,0,0,.08)}\
.logo{display:block;max-height:48px;max-width:100%;margin:0 auto 16px}.app{text-align:center;font-weight:600;margin:0 0 8px;color:#555}\
h1{font-size:1.5rem;margin:0 0 20px;text-align:center}label{display:block;font-weight:500;margin:12px 0 4px}\
input[type=text],input[type=password]{width:100%;padding:12px;border:1px solid #c7c7cc;border-radius:10px;font-size:1rem}\
input:focus{outline:2px solid var(--primary);outline-offset:1px;border-color:var(--primary)}\
button{width:100%;margin-top:20px;padding:12px;border:0;border-radius:10px;background:var(--primary);color:#fff;font-size:1rem;font-weight:600;cursor:pointer}\
button:focus{outline:3px solid #1d1d1f;outline-offset:2px}\
.alert{margin:0 0 12px;padding:10px 12px;border-radius:10px;background:#fdecea;color:#8a1c12}\
.terms{display:flex;gap:8px;align-items:flex-start;margin-top:16px;font-size:.9rem}.terms input{margin-top:4px}\
.switch{text-align:center;margin-top:20px;font-size:.95rem}form.secondary button{margin-top:8px;background:none;color:var(--primary);font-weight:500}a{color:var(--primary)}.detail{font-size:.85rem;color:#666;word-break:break-word}\
@media (prefers-color-scheme:dark){body{background:#000;color:#f5f5f7}.card{background:#1c1c1e}input[type=text],input[type=password]{background:#2c2c2e;color:#f5f5f7;border-color:#48484a}button{background:var(--primary-dark)}a{color:var(--primary-dark)}.app,.detail{color:#aaa}}";
