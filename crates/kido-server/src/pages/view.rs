//! What every hosted page is drawn with: the language and the tenant's look (`View`), the
//! document around a page (`templates/base.html`), the response headers, and the pieces
//! several forms share (the terms block). The markup lives in `crates/kido-server/templates/`,
//! compiled into the binary by askama, which HTML-escapes every value.

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kido_core::experience::{InteractionEvent, terms_required};
use kido_proto::sign_in_experience::{AgreeToTermsPolicy, SignInExperience};

use super::i18n::{Lang, Texts};
use super::palette::Palette;
use crate::errors::ApiError;
use crate::state::AppState;

/// What every page needs: the language and the tenant's look.
pub struct View {
    pub lang: Lang,
    pub sie: SignInExperience,
    pub app_name: Option<String>,
}

impl View {
    pub async fn new(app: &AppState, headers: &HeaderMap, ui_locales: Option<&str>, app_name: Option<String>) -> Self {
        let sie = app.core.sign_in_experiences().get(app.tenant.id()).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "sign-in experience unavailable; showing defaults");
            SignInExperience::default_for(app.tenant.id().as_str())
        });
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        Self { lang: Lang::pick(ui_locales, accept, &sie), sie, app_name }
    }

    pub fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// Whether the page has dark colours for a browser that prefers them (`isDarkModeEnabled`).
    pub fn dark_mode(&self) -> bool {
        self.sie.color.is_dark_mode_enabled
    }

    pub fn light_palette(&self) -> Palette {
        Palette::light(&self.sie.color.primary_color)
    }

    pub fn dark_palette(&self) -> Option<Palette> {
        self.dark_mode().then(|| Palette::dark(&self.sie.color.dark_primary_color))
    }

    /// The dark logo, in dark mode only.
    pub fn dark_logo(&self) -> Option<&str> {
        self.sie.branding.dark_logo_url.as_deref().filter(|u| !u.is_empty() && self.dark_mode())
    }

    /// The tenant's password policy in words, one rule per line.
    pub fn password_rules(&self) -> Vec<String> {
        let t = self.t();
        let policy = &self.sie.password_policy;
        let (min, max) = (policy.length.min.to_string(), policy.length.max.to_string());
        let length = if policy.length.max < kido_core::sign_in_experience::password_policy::MAX_PASSWORD_LEN as u32 {
            t.rule_length_range.replace("{min}", &min).replace("{max}", &max)
        } else {
            t.rule_length_min.replace("{min}", &min)
        };
        let mut rules = vec![length];
        if policy.character_types.min > 1 {
            rules.push(t.rule_character_types.replace("{n}", &policy.character_types.min.to_string()));
        }
        let rejects = &policy.rejects;
        let flagged = [
            (rejects.pwned, t.rule_not_common),
            (rejects.repetition_and_sequence, t.rule_no_runs),
            (rejects.user_info, t.rule_no_user_info),
            (!rejects.words.is_empty(), t.rule_no_words),
        ];
        rules.extend(flagged.into_iter().filter(|(on, _)| *on).map(|(_, rule)| rule.to_owned()));
        rules
    }

    /// Where "Go back" leads from a page that cannot return to the app: the page the browser
    /// came from (`Referer`, http(s) only), else the tenant's `unknownSessionRedirectUrl`.
    pub fn way_back(&self, headers: Option<&HeaderMap>) -> Option<String> {
        let web = |u: &str| u.len() <= 2048 && url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        let referer = headers.and_then(|h| h.get(header::REFERER)).and_then(|v| v.to_str().ok());
        referer
            .filter(|u| web(u))
            .or(self.sie.unknown_session_redirect_url.as_deref().filter(|u| web(u)))
            .map(str::to_owned)
    }

    pub fn support_email(&self) -> Option<&str> {
        self.sie.support_email.as_deref().filter(|e| !e.is_empty())
    }

    /// The tenant's support website (http(s) only).
    pub fn support_site(&self) -> Option<&str> {
        self.sie.support_website_url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://"))
    }

    /// The tenant's custom CSS as it may stand inside the style element: it cannot close
    /// the element (CSS escapes `<`), so the template writes it unescaped.
    pub fn custom_css(&self) -> String {
        self.sie.custom_css.as_deref().unwrap_or_default().replace('<', "\\3c ")
    }

    /// A rendered page with `status` and the hosted pages' headers (no scripts, no framing,
    /// no caching, no referrer).
    pub fn render(&self, status: StatusCode, page: &impl Template) -> Response {
        self.render_with_policy(status, page, self.content_security_policy())
    }

    /// A rendered page with `status`, the hosted pages' headers and the given CSP.
    pub fn render_with_policy(&self, status: StatusCode, page: &impl Template, csp: HeaderValue) -> Response {
        let html = match page.render() {
            Ok(html) => html,
            Err(e) => return ApiError::internal(&e).into_response(),
        };
        let mut response = (status, html).into_response();
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
        response
    }

    /// No scripts and no connections, unless the tenant runs a custom UI: then its
    /// `customUiCsp` sources (checked as CSP source expressions when stored) are allowed.
    fn content_security_policy(&self) -> HeaderValue {
        const BASE: &str = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; \
            frame-ancestors 'none'; base-uri 'none'";
        let csp = &self.sie.custom_ui_csp;
        let directives: Vec<String> = [("script-src", &csp.script_src), ("connect-src", &csp.connect_src)]
            .into_iter()
            .filter(|_| self.sie.custom_ui_assets.is_some())
            .filter_map(|(name, sources)| sources.as_ref().filter(|s| !s.is_empty()).map(|s| (name, s)))
            .map(|(name, sources)| format!("; {name} {}", sources.join(" ")))
            .collect();
        if directives.is_empty() {
            return HeaderValue::from_static(BASE);
        }
        HeaderValue::from_str(&format!("{BASE}{}", directives.concat())).unwrap_or(HeaderValue::from_static(BASE))
    }

    /// A page with a heading and one message, the way back and the tenant's support contacts.
    pub fn message(&self, status: StatusCode, title: &str, message: &str, alert: bool) -> Response {
        self.render(status, &MessagePage { v: self, title, message, alert, back: self.way_back(None) })
    }

    /// The terms block of a form: a required checkbox when the policy asks for explicit
    /// agreement, a notice when agreement is implied, nothing when there are no terms.
    pub fn terms(&self, event: InteractionEvent) -> Option<Terms> {
        let sie = &self.sie;
        let t = self.t();
        let links: Vec<TermsLink> =
            [(sie.terms_of_use_url.as_deref(), t.terms), (sie.privacy_policy_url.as_deref(), t.privacy)]
                .into_iter()
                .filter_map(|(url, label)| {
                    url.filter(|u| !u.is_empty()).map(|url| TermsLink { url: url.to_owned(), label })
                })
                .collect();
        if links.is_empty() {
            None
        } else if terms_required(sie, event) {
            Some(Terms { required: true, links })
        } else if sie.agree_to_terms_policy == AgreeToTermsPolicy::Automatic || event == InteractionEvent::Register {
            Some(Terms { required: false, links })
        } else {
            None
        }
    }
}

/// The terms block (`templates/_terms.html`).
pub struct Terms {
    pub required: bool,
    pub links: Vec<TermsLink>,
}

pub struct TermsLink {
    pub url: String,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    v: &'a View,
    title: &'a str,
    message: &'a str,
    alert: bool,
    back: Option<String>,
}
